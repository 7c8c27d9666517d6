"""The long chaos campaign from the command line; prints its figures.

    python -m tests.chaos --worker-kills 50 --control-kills 20 --api-kills 20 --redis-restarts 5

Exits 1 when any figure that must be 0 is not (lost, duplicated, re-run after success,
executions not terminal or not SUCCEEDED, snapshots that did not add up, results that differ
from a clean run's).
"""

from __future__ import annotations

import argparse
import signal
import sys

from tests.chaos.chaos_campaign import Plan, run_campaign


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    defaults = Plan()
    parser.add_argument("--executions", type=int, default=6)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--worker-kills", type=int, default=50)
    parser.add_argument("--control-kills", type=int, default=20)
    parser.add_argument("--api-kills", type=int, default=20)
    parser.add_argument("--redis-restarts", type=int, default=5)
    parser.add_argument("--child-seconds", type=float, default=defaults.child_seconds)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    # SIGTERM ends the campaign like Ctrl-C: the stack's processes are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    plan = Plan(executions=args.executions, items=args.items, worker_kills=args.worker_kills,
                control_kills=args.control_kills, api_kills=args.api_kills,
                redis_restarts=args.redis_restarts, child_seconds=args.child_seconds,
                workers=args.workers, concurrency=args.concurrency, timeout=args.timeout,
                seed=args.seed)
    figures = run_campaign(plan)
    print(figures.report())
    must_be_zero = (figures.lost, figures.duplicated, figures.rerun_after_success,
                    figures.not_terminal, figures.not_succeeded, figures.bad_snapshots,
                    figures.differs_from_clean)
    return 0 if not any(must_be_zero) else 1


if __name__ == "__main__":
    sys.exit(main())
