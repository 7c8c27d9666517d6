#!/usr/bin/env bash
# System packages the test suite needs beyond Python: a headless Chromium and its WebDriver
# (the console's browser tests). Idempotent: does nothing when both are on PATH. Installs with
# apt-get when run as root on Debian/Ubuntu; elsewhere it only says what is missing (the
# browser tests then skip locally, and fail when CI is set).
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if { have chromium || have chromium-browser; } && have chromedriver; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && have apt-get; then
    echo "ci-deps: installing chromium and chromium-driver with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
else
    echo "ci-deps: chromium/chromedriver missing; install them (Debian: apt-get install" \
         "chromium chromium-driver) to run the browser tests" >&2
fi
