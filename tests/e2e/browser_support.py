"""A real headless Chromium driven by Selenium, for the console and docs tests.

Uses the system's ``chromium`` and ``chromedriver`` (Debian: ``apt-get install chromium
chromium-driver``; ``scripts/ci-deps.sh`` installs them). Without them the browser tests skip,
unless ``CI`` is set: then they fail, so a CI machine never silently skips them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
DRIVER_NAMES = ("chromedriver",)


def _which(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def chrome() -> Iterator[Any]:
    """Yield a headless Chromium WebDriver (1280x1600); quit it afterwards."""
    binary, driver_path = _which(CHROMIUM_NAMES), _which(DRIVER_NAMES)
    if binary is None or driver_path is None:
        message = "no chromium/chromedriver on PATH (run scripts/ci-deps.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1600", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def loaded_urls(driver: Any) -> list[str]:
    """Every URL the current page fetched with an answer (the page itself and its resources).

    A request the browser refused to send (blocked by the page's Content-Security-Policy) is
    listed by the Resource Timing API with ``responseStatus`` 0; it is left out.
    """
    urls = driver.execute_script(
        "return [location.href].concat(performance.getEntriesByType('resource')"
        ".filter(function (e) { return e.responseStatus !== 0; })"
        ".map(function (e) { return e.name; }))")
    return [str(u) for u in urls]


def attempted_urls(driver: Any) -> list[str]:
    """Every resource URL the page asked for, including the ones the browser blocked."""
    urls = driver.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
    return [str(u) for u in urls]
