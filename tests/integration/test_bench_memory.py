"""The bench's memory figures: the exact peak RSS of a process tree, and the CSV runs' ratio.

``bench/_stack.py RssSampler`` reads each process's RSS high-water mark (reset as it starts), so
a peak shorter than its sampling interval counts; ``bench/csvbase.py annotate`` compares a
large run's RSS over idle with the median of the small run's repeats.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from bench import csvbase
from bench._stack import RssSampler
from bench.maprun import Figure, wait_trimmed

MiB = 2**20

#: Waits for a line on stdin, holds 64 MiB for ~10 ms, frees it and says so.
SPIKE = """
import sys, time
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()
block = bytearray(64 * 2**20)
block[::4096] = b"x" * len(block[::4096])
time.sleep(0.01)
del block
sys.stdout.write("done\\n"); sys.stdout.flush()
sys.stdin.readline()
"""


@pytest.fixture
def spiker() -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-c", SPIKE], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    yield proc
    proc.kill()
    proc.wait()


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_a_peak_shorter_than_the_sampling_interval_is_measured(
        spiker: subprocess.Popen[str]) -> None:
    assert spiker.stdin is not None and spiker.stdout is not None
    with RssSampler([spiker.pid], interval=10.0) as rss:
        time.sleep(0.2)  # the first sample: the idle process
        spiker.stdin.write("go\n")
        spiker.stdin.flush()
        assert spiker.stdout.readline() == "done\n"
    assert rss.exact
    assert rss.samples == 1  # the sampler never saw the 64 MiB
    assert rss.peak - rss.first >= 60 * MiB


def _csv(count: int, over_idle: list[float]) -> Figure:
    fig = Figure(f"CSV {count}", count, 1.0, "items/s",
                 {"peak_rss_mb": 100.0 + over_idle[0], "start_rss_mb": 100.0})
    if len(over_idle) > 1:
        fig.extra["rss_over_idle_runs_mb"] = over_idle
    return fig


def test_the_large_run_is_compared_with_the_median_of_the_small_runs() -> None:
    figures = {"csv_small": _csv(100_000, [0.7, 3.2, 2.8]),
               "csv_huge": _csv(10_000_000, [3.3])}
    csvbase.annotate(figures)
    assert figures["csv_small"].extra["median_rss_over_idle_mb"] == 2.8
    assert figures["csv_huge"].extra["rss_over_idle_ratio_to_small"] == pytest.approx(3.3 / 2.8)


def test_a_single_small_run_is_its_own_reference() -> None:
    figures = {"csv_small": _csv(100_000, [2.0]), "csv_huge": _csv(10_000_000, [3.0])}
    csvbase.annotate(figures)
    assert figures["csv_huge"].extra["rss_over_idle_ratio_to_small"] == pytest.approx(1.5)


#: Holds 32 MiB, frees them after ``sys.argv[1]`` seconds (as a heap trim would), then idles.
SHRINK = """
import sys, time
block = bytearray(32 * 2**20)
block[::4096] = b"x" * len(block[::4096])
sys.stdout.write("ready\\n"); sys.stdout.flush()
time.sleep(float(sys.argv[1]))
del block
time.sleep(60)
"""


def _wait_on_shrinking(frees_after: float, idle_seconds: float) -> tuple[float, int]:
    """(seconds :func:`wait_trimmed` waited, the RSS after) on a SHRINK process."""
    proc = subprocess.Popen([sys.executable, "-c", SHRINK, str(frees_after)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        started = time.monotonic()
        wait_trimmed([proc.pid], idle_seconds=idle_seconds)
        return time.monotonic() - started, psutil.Process(proc.pid).memory_info().rss
    finally:
        proc.kill()
        proc.wait()


def test_a_csv_run_waits_for_the_worker_to_give_its_heap_back() -> None:
    waited, rss = _wait_on_shrinking(1.0, idle_seconds=2.0)
    # Then it waited for the drop (at 1 s), not its 7 s at most
    assert 0.9 <= waited < 5.0
    assert rss < 24 * MiB


def test_with_no_trim_to_come_the_wait_is_bounded() -> None:
    waited, _ = _wait_on_shrinking(60, idle_seconds=0.1)
    assert 1.3 <= waited < 3.0  # 3 x 0.1 + 1 s
