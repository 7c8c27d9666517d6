"""Summarise the worker profiles of ``python -m bench --profile DIR``.

``python -m bench.profiles DIR [--top 25]`` merges the ``.prof`` files by app and role
(``control-pool``, ``control-main``, ``children-pool``, ``children-main``) and prints, for each,
the time by package (where the CPU goes) and the top functions by own time and by cumulative
time. Idle time in the Celery main loop (``poll``/``select``/``epoll``) is listed as ``idle``.
"""

from __future__ import annotations

import argparse
import pstats
import re
from collections import defaultdict
from pathlib import Path

_PACKAGES = (
    ("idle (poll/select/sleep)", re.compile(r"\{(?:method 'poll'|method 'select'|built-in method "
                                            r"select|method 'epoll'|built-in method time.sleep)")),
    ("socket I/O", re.compile(r"\{method '(?:recv|recv_into|send|sendall)'")),
    ("orchestrator.maprun", re.compile(r"orchestrator/maprun/")),
    ("orchestrator.readers", re.compile(r"orchestrator/readers/")),
    ("orchestrator.writer", re.compile(r"orchestrator/writer/")),
    ("orchestrator.asl", re.compile(r"orchestrator/asl/")),
    ("orchestrator (other)", re.compile(r"orchestrator/")),
    ("workers", re.compile(r"/workers/")),
    ("celery", re.compile(r"site-packages/celery/")),
    ("kombu", re.compile(r"site-packages/kombu/")),
    ("billiard", re.compile(r"site-packages/billiard/")),
    ("redis-py", re.compile(r"site-packages/redis/")),
    ("pydantic", re.compile(r"site-packages/pydantic")),
    ("botocore/boto3/urllib3", re.compile(r"site-packages/(?:botocore|boto3|urllib3|s3transfer)/")),
    ("json", re.compile(r"json/|_json|method 'encode' of '_json|built-in method _json")),
    ("csv", re.compile(r"_csv|/csv\.py")),
    ("uuid/hashlib", re.compile(r"uuid\.py|_hashlib|hashlib")),
    ("logging", re.compile(r"logging/")),
)


def _category(func: tuple[str, int, str]) -> str:
    text = f"{func[0]}:{func[1]}({func[2]})" if func[0] != "~" else f"{{{func[2]}}}"
    for name, pattern in _PACKAGES:
        if pattern.search(text):
            return name
    return "other"


def load(folder: Path) -> dict[str, pstats.Stats]:
    """Merged stats per ``<app>-<role>`` from the ``.prof`` files in ``folder``."""
    groups: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(folder.glob("*.prof")):
        app, role, _pid = path.stem.rsplit("-", 2)
        groups[f"{app}-{role}"].append(path)
    out: dict[str, pstats.Stats] = {}
    for name, paths in groups.items():
        stats = pstats.Stats(str(paths[0]))
        for extra in paths[1:]:
            stats.add(str(extra))
        out[name] = stats
    return out


def by_package(stats: pstats.Stats) -> dict[str, float]:
    """Own time (seconds) summed by package."""
    totals: dict[str, float] = defaultdict(float)
    for func, (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        totals[_category(func)] += tt
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def main() -> None:
    """Print the summary."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("folder", type=Path)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--only", help="only groups containing this text (e.g. control-pool)")
    args = p.parse_args()
    for name, stats in load(args.folder).items():
        if args.only and args.only not in name:
            continue
        total = sum(v for v in by_package(stats).values())
        print(f"\n===== {name}: {total:.2f}s profiled =====")
        for pkg, seconds in by_package(stats).items():
            if seconds >= 0.005 * total:
                print(f"  {pkg:<28} {seconds:7.2f}s  {100 * seconds / total:5.1f}%")
        print(f"\n-- {name}: top {args.top} by own time --")
        stats.sort_stats("tottime").print_stats(args.top)
        print(f"\n-- {name}: top {args.top} by cumulative time --")
        stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
