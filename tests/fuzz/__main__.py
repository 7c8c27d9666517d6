"""``python -m tests.fuzz [--requests N] [--definitions N] [--seed N]``: the long fuzz run.

Starts a Redis server of its own (or uses ``STEPMAP_TEST_REDIS_URL``), serves the API with
uvicorn on loopback, prints the figures; exits 1 when any property was violated.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from tests.fuzz.campaign import run


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the campaign, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000,
                        help="generated requests across both faces (default 10000)")
    parser.add_argument("--definitions", type=int, default=300,
                        help="mutated definitions sent and, when accepted, run (default 300)")
    parser.add_argument("--seed", type=int, default=int(time.time()),
                        help="random seed (printed, so a run can be replayed)")
    args = parser.parse_args(argv)
    redis_url = os.environ.get("STEPMAP_TEST_REDIS_URL")
    server = None
    if redis_url is None:
        from orchestrator.devstack.servers import start_redis

        server = start_redis()
        redis_url = server.url
    try:
        started = time.monotonic()
        figures = run(redis_url, args.requests, args.definitions, args.seed)
        elapsed = time.monotonic() - started
    finally:
        if server is not None:
            server.stop()
    print(f"seed: {args.seed}  elapsed: {elapsed:.1f} s")
    print(figures.summary())
    bad = (figures.server_errors or figures.dropped or figures.wrong_shape
           or figures.failed_probes or figures.engine_failures)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
