"""When a worker process hands its freed heap back to the OS (``orchestrator.heap_trim``)."""

from __future__ import annotations

from orchestrator.heap_trim import IdleTrimmer, libc_trim


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _trimmer(clock: Clock) -> tuple[IdleTrimmer, list[float]]:
    calls: list[float] = []
    return IdleTrimmer(2.0, lambda: calls.append(clock.now), clock), calls


def test_a_process_that_ran_no_task_is_never_trimmed() -> None:
    clock = Clock()
    trimmer, calls = _trimmer(clock)
    clock.now += 60
    assert not trimmer.trim_if_idle()
    assert calls == []


def test_trims_once_idle_long_enough_after_tasks_then_waits_for_new_tasks() -> None:
    clock = Clock()
    trimmer, calls = _trimmer(clock)
    trimmer.task_started()
    clock.now += 5
    trimmer.task_finished()
    clock.now += 1.9
    assert not trimmer.trim_if_idle()  # idle 1.9 s of 2
    clock.now += 0.1
    assert trimmer.trim_if_idle()
    clock.now += 30
    assert not trimmer.trim_if_idle()  # nothing ran since
    assert calls == [107.0]


def test_never_trims_while_a_task_runs() -> None:
    clock = Clock()
    trimmer, calls = _trimmer(clock)
    trimmer.task_started()
    trimmer.task_finished()
    trimmer.task_started()  # a long task: idle time counts from its end
    clock.now += 60
    assert not trimmer.trim_if_idle()
    trimmer.task_finished()
    clock.now += 2
    assert trimmer.trim_if_idle()
    assert calls == [162.0]


def test_glibcs_malloc_trim_is_found_and_callable() -> None:
    trim = libc_trim()
    assert trim is not None  # the CI image is glibc-based
    assert trim() in (0, 1)
