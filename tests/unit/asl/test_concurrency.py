"""Parallel branches and inline Map iterations run concurrently (issue 10, part 2).

Two modes: a parent execution suspends with every waiting branch call at once and resumes
as answers come in any order (journal round-tripped through JSON); a child workflow with a
synchronous invoker that offers a RequestPool gets all calls submitted at once. Overlap is
proven with a barrier that only opens when N calls are in flight together (no wall clock).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from conftest import FakeClock, FakeInvoker, execution_info

from orchestrator.asl import (
    Checkpoint,
    Failed,
    Ports,
    StatesError,
    Succeeded,
    Suspended,
    TaskRequest,
    parse_definition,
    run_execution,
)
from orchestrator.asl.ports import Clock, Request, request_from_dict

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:"


def task(name: str, nxt: str | None = None, **extra: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Task", "Resource": LAMBDA + name, **extra}
    if nxt is None:
        state["End"] = True
    else:
        state["Next"] = nxt
    return state


def parallel(names: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [{"StartAt": n, "States": {n: task(n)}} for n in names],
                "End": True,
                **extra,
            }
        },
    }


def inline_map(max_concurrency: int | None, **extra: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Map",
        "ItemProcessor": {"StartAt": "Work", "States": {"Work": task("work")}},
        "End": True,
        **extra,
    }
    if max_concurrency is not None:
        state["MaxConcurrency"] = max_concurrency
    return {"StartAt": "M", "States": {"M": state}}


def through_json(checkpoint: Checkpoint) -> Checkpoint:
    return Checkpoint.from_dict(json.loads(json.dumps(checkpoint.to_dict())))


class Suspending:
    """Every Task answers later (what the control plane's invoker does)."""

    def invoke(self, request: TaskRequest) -> Any:
        from orchestrator.asl import Pending

        raise Pending(request)


def run(definition: dict[str, Any], data: Any, checkpoint: Checkpoint | None = None,
        tasks: Any = None) -> Any:
    ports = Ports(tasks=tasks or Suspending(), clock=FakeClock())
    return run_execution(parse_definition(definition), data, execution_info(), ports,
                         checkpoint=checkpoint)


def pending_requests(checkpoint: Checkpoint) -> dict[str, Request]:
    return {k: request_from_dict(v["request"]) for k, v in checkpoint.pending.items()}


def check_history(events: list[dict[str, Any]]) -> None:
    """Ids 1..n, each handed out once, every previousEventId points back."""
    ids = [e["id"] for e in events]
    assert sorted(ids) == list(range(1, len(ids) + 1)), ids
    for e in events:
        assert 0 <= e["previousEventId"] < e["id"], e


def drive(definition: dict[str, Any], data: Any,
          answer: Callable[[TaskRequest], Any],
          pick: Callable[[list[str]], str] = lambda keys: keys[-1]) -> tuple[Any, list[Any]]:
    """Run a parent-style execution to its end, answering one pending call per resume."""
    outcome = run(definition, data)
    events = list(outcome.events)
    while isinstance(outcome, Suspended):
        checkpoint = through_json(outcome.checkpoint)
        key = pick(list(checkpoint.pending))
        request = pending_requests(checkpoint)[key]
        assert isinstance(request, TaskRequest)
        try:
            value = answer(request)
        except StatesError as exc:
            assert checkpoint.answer(key, error=exc.error, cause=exc.cause)
        else:
            assert checkpoint.answer(key, value)
        outcome = run(definition, None, checkpoint)
        events += outcome.events
    return outcome, events


# -- parent executions: suspend with every branch call pending ------------------------------


def test_parallel_suspends_with_every_branch_task_pending_and_resumes_in_any_order() -> None:
    definition = parallel(["a", "b", "c"])
    first = run(definition, {"x": 1})
    assert isinstance(first, Suspended)
    calls = pending_requests(first.checkpoint)
    assert sorted(r.resource for r in calls.values()) == [LAMBDA + n for n in "abc"]
    assert set(first.fresh) == set(calls)
    types = [e["type"] for e in first.events]
    assert types.count("LambdaFunctionScheduled") == 3 and "LambdaFunctionSucceeded" not in types

    outcome, events = drive(definition, {"x": 1},
                            lambda r: {"from": r.resource.rsplit(":", 1)[-1]})
    assert isinstance(outcome, Succeeded)
    assert outcome.output == [{"from": "a"}, {"from": "b"}, {"from": "c"}]
    check_history(events)
    types = [e["type"] for e in events]
    assert types.count("ParallelStateSucceeded") == 1
    # Answered c, then b, then a: the last branch to end is a's.
    assert types[-3:] == ["ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]


def test_inline_map_keeps_max_concurrency_calls_in_flight() -> None:
    definition = inline_map(2)
    first = run(definition, [1, 2, 3, 4, 5])
    assert isinstance(first, Suspended)
    assert len(first.checkpoint.pending) == 2
    checkpoint = through_json(first.checkpoint)
    key = sorted(checkpoint.pending)[0]
    assert checkpoint.answer(key, "one")
    second = run(definition, None, checkpoint)
    assert isinstance(second, Suspended)
    # One slot freed: one new iteration started, the other kept its number.
    assert len(second.checkpoint.pending) == 2 and len(second.fresh) == 1
    kept = [k for k in second.checkpoint.pending if k not in second.fresh]
    assert second.checkpoint.pending[kept[0]]["seq"] == checkpoint.pending[kept[0]]["seq"]

    outcome, events = drive(definition, [1, 2, 3, 4, 5], lambda r: r.parameters)
    assert isinstance(outcome, Succeeded) and outcome.output == [1, 2, 3, 4, 5]
    check_history(events)


def test_inline_map_history_starts_every_running_iteration_before_any_ends() -> None:
    outcome, events = drive(inline_map(5), [1, 2, 3, 4, 5], lambda r: r.parameters)
    assert isinstance(outcome, Succeeded)
    types = [e["type"] for e in events]
    last_start = max(i for i, t in enumerate(types) if t == "MapIterationStarted")
    first_end = types.index("MapIterationSucceeded")
    assert last_start < first_end
    started = [e for e in events if e["type"] == "MapIterationStarted"]
    assert [e["mapIterationStartedEventDetails"]["index"] for e in started] == [0, 1, 2, 3, 4]
    map_started = next(e["id"] for e in events if e["type"] == "MapStateStarted")
    assert all(e["previousEventId"] == map_started for e in started)


def test_inline_map_default_concurrency_is_40() -> None:
    first = run(inline_map(None), list(range(45)))
    assert isinstance(first, Suspended) and len(first.checkpoint.pending) == 40
    first = run(inline_map(100), list(range(45)))
    assert isinstance(first, Suspended) and len(first.checkpoint.pending) == 40


def test_resume_from_an_older_checkpoint_is_deterministic_and_answers_are_exactly_once() -> None:
    definition = parallel(["a", "b", "c"])
    first = run(definition, {})
    assert isinstance(first, Suspended)
    saved = json.dumps(first.checkpoint.to_dict())
    key = sorted(first.checkpoint.pending)[1]

    one = Checkpoint.from_dict(json.loads(saved))
    assert one.answer(key, {"b": 1})
    assert not one.answer(key, {"b": "redelivered"})  # a redelivered result changes nothing
    again = Checkpoint.from_dict(json.loads(saved))
    assert again.answer(key, {"b": 1})
    # Restart: the same checkpoint resumed twice gives the same events and pending calls.
    r1, r2 = run(definition, None, one), run(definition, None, again)
    assert isinstance(r1, Suspended) and isinstance(r2, Suspended)
    assert r1.events == r2.events and r1.checkpoint.to_dict() == r2.checkpoint.to_dict()
    assert r1.fresh == ()
    assert [e["type"] for e in r1.events] == ["LambdaFunctionSucceeded", "TaskStateExited"]


def test_nested_parallel_in_map_iterations_all_pending_at_once() -> None:
    inner = parallel(["a", "b"])
    definition = {
        "StartAt": "M",
        "States": {
            "M": {"Type": "Map", "ItemProcessor": inner, "End": True},
        },
    }
    first = run(definition, [1, 2, 3])
    assert isinstance(first, Suspended) and len(first.checkpoint.pending) == 6
    outcome, events = drive(definition, [1, 2, 3], lambda r: r.resource[-1])
    assert isinstance(outcome, Succeeded)
    assert outcome.output == [["a", "b"]] * 3
    check_history(events)


# -- failure cancels the siblings -------------------------------------------------------------


def test_failed_branch_cancels_pending_siblings_and_fails_the_parallel_once() -> None:
    definition = parallel(["a", "b", "c"])
    first = run(definition, {})
    assert isinstance(first, Suspended)
    checkpoint = through_json(first.checkpoint)
    keys = sorted(checkpoint.pending)
    assert checkpoint.answer(keys[1], error="Boom", cause="b failed")
    outcome = run(definition, None, checkpoint)
    assert isinstance(outcome, Failed) and outcome.error == "Boom"
    events = first.events + outcome.events
    check_history(events)
    types = [e["type"] for e in events]
    assert types.count("ParallelStateFailed") == 1
    assert types.count("LambdaFunctionSucceeded") == 0
    # Late answers of the cancelled branches are ignored.
    late = through_json(outcome.checkpoint) if outcome.checkpoint else checkpoint
    assert not late.answer(keys[0], {"late": True})


def test_failed_iteration_aborts_running_ones_and_never_starts_the_rest() -> None:
    definition = inline_map(2)
    first = run(definition, [1, 2, 3, 4])
    assert isinstance(first, Suspended)
    checkpoint = through_json(first.checkpoint)
    assert checkpoint.answer(sorted(checkpoint.pending)[0], error="Boom")
    outcome = run(definition, None, checkpoint)
    assert isinstance(outcome, Failed)
    events = first.events + outcome.events
    check_history(events)
    types = [e["type"] for e in events]
    assert types.count("MapIterationStarted") == 2
    assert types.count("MapIterationFailed") == 1
    aborted = [e for e in events if e["type"] == "MapIterationAborted"]
    assert [e["mapIterationAbortedEventDetails"] for e in aborted] == [{"name": "M", "index": 1}]
    assert types.count("MapStateFailed") == 1
    assert types.index("MapIterationAborted") < types.index("MapStateFailed")


def test_retried_map_fails_once_per_attempt_and_catch_sees_the_error() -> None:
    definition = inline_map(
        3,
        Retry=[{"ErrorEquals": ["Boom"], "MaxAttempts": 1, "IntervalSeconds": 1}],
        Catch=[{"ErrorEquals": ["States.ALL"], "Next": "After"}],
    )
    definition["States"]["M"].pop("End")
    definition["States"]["M"]["Next"] = "After"
    definition["States"]["After"] = {"Type": "Pass", "End": True}
    outcome, events = drive(definition, [1, 2, 3], lambda r: (_ for _ in ()).throw(
        StatesError("Boom", "no")), pick=lambda keys: keys[0])
    assert isinstance(outcome, Succeeded)
    assert outcome.output == {"Error": "Boom", "Cause": "no"}
    check_history(events)
    types = [e["type"] for e in events]
    assert types.count("MapStateStarted") == 2
    assert types.count("MapStateFailed") == 2  # one per failed attempt
    assert types.count("MapIterationFailed") == 2


# -- child workflows: a pool runs the calls at once ---------------------------------------


class BarrierPool:
    """A RequestPool running each Task in a thread that waits at a barrier first."""

    def __init__(self, owner: BarrierInvoker) -> None:
        self.owner = owner
        self.answers: list[tuple[str, dict[str, Any]]] = []
        self.cond = threading.Condition()

    def submit(self, key: str, request: Request) -> bool:
        if not isinstance(request, TaskRequest):
            return False
        with self.owner.lock:
            self.owner.in_flight += 1
            self.owner.peak = max(self.owner.peak, self.owner.in_flight)
        threading.Thread(target=self._run, args=(key, request), daemon=True).start()
        return True

    def _run(self, key: str, request: TaskRequest) -> None:
        try:
            value = self.owner.invoke(request)
            answer: dict[str, Any] = {"v": value}
        except StatesError as exc:
            answer = {"e": exc.error, "c": exc.cause}
        with self.owner.lock:
            self.owner.in_flight -= 1
        with self.cond:
            self.answers.append((key, answer))
            self.cond.notify_all()

    def wait(self) -> list[tuple[str, dict[str, Any]]]:
        with self.cond:
            while not self.answers:
                self.cond.wait()
            out, self.answers = self.answers, []
        return out

    def close(self) -> None:
        self.owner.closed += 1


class BarrierInvoker:
    """Tasks named in ``gated`` pass only when ``parties`` of them run at once."""

    def __init__(self, parties: int, fail: set[str] | None = None) -> None:
        self.barrier = threading.Barrier(parties, timeout=20)
        self.fail = fail or set()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.closed = 0
        self.calls: list[str] = []

    def open_pool(self, clock: Clock) -> BarrierPool:
        return BarrierPool(self)

    def invoke(self, request: TaskRequest) -> Any:
        name = request.resource.rsplit(":", 1)[-1]
        with self.lock:
            self.calls.append(name)
        if name in self.fail:
            raise StatesError("Boom", name)
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            raise StatesError("NotConcurrent", name) from None
        return {"name": name, "in": request.parameters}


def test_child_parallel_runs_its_three_tasks_at_once() -> None:
    invoker = BarrierInvoker(3)
    outcome = run(parallel(["a", "b", "c"]), {"x": 1}, tasks=invoker)
    assert isinstance(outcome, Succeeded), outcome
    assert [r["name"] for r in outcome.output] == ["a", "b", "c"]
    assert invoker.peak == 3 and invoker.closed == 1
    check_history(outcome.events)


def test_child_inline_map_runs_five_iterations_at_once() -> None:
    invoker = BarrierInvoker(5)
    outcome = run(inline_map(5), [1, 2, 3, 4, 5], tasks=invoker)
    assert isinstance(outcome, Succeeded), outcome
    assert [r["in"] for r in outcome.output] == [1, 2, 3, 4, 5]
    assert invoker.peak == 5
    check_history(outcome.events)


def test_child_inline_map_respects_max_concurrency() -> None:
    invoker = BarrierInvoker(2)
    outcome = run(inline_map(2), [1, 2, 3, 4], tasks=invoker)
    assert isinstance(outcome, Succeeded), outcome
    assert invoker.peak == 2


def test_child_failure_cancels_the_other_branches() -> None:
    definition = parallel(["a", "b"])
    branch = definition["States"]["P"]["Branches"][0]
    branch["States"]["a"] = task("a", "a2")
    branch["States"]["a2"] = task("a2")
    invoker = BarrierInvoker(2, fail={"b"})
    outcome = run(definition, {}, tasks=invoker)
    assert isinstance(outcome, Failed) and outcome.error == "Boom"
    assert "a2" not in invoker.calls  # the sibling's next state never started
    types = [e["type"] for e in outcome.events]
    assert types.count("ParallelStateFailed") == 1
    invoker.barrier.abort()  # release the abandoned call


def test_child_sequential_invoker_still_works_in_branch_order() -> None:
    invoker = FakeInvoker({LAMBDA + "a": 1, LAMBDA + "b": 2})
    outcome = run(parallel(["a", "b"]), {}, tasks=invoker)
    assert isinstance(outcome, Succeeded) and outcome.output == [1, 2]
    assert [c.resource for c in invoker.calls] == [LAMBDA + "a", LAMBDA + "b"]


@pytest.mark.parametrize("history", [True, False])
def test_child_with_pool_matches_output_with_history_on_and_off(history: bool) -> None:
    from orchestrator.asl import EngineOptions

    invoker = BarrierInvoker(3)
    outcome = run_execution(
        parse_definition(parallel(["a", "b", "c"])), {}, execution_info(),
        Ports(tasks=invoker, clock=FakeClock()), options=EngineOptions(history=history),
    )
    assert isinstance(outcome, Succeeded)
    assert [r["name"] for r in outcome.output] == ["a", "b", "c"]


# -- redrive ------------------------------------------------------------------------------------


def test_redrive_of_a_failed_parallel_runs_the_parallel_again_and_continues_the_history() -> None:
    definition = parallel(["a", "b"])
    machine = parse_definition(definition)
    down = FakeInvoker({LAMBDA + "a": 1, LAMBDA + "b": {"error": "App.Down", "cause": "later"}})
    failed = run_execution(machine, {}, execution_info(), Ports(tasks=down, clock=FakeClock()))
    assert isinstance(failed, Failed) and failed.checkpoint is not None
    stored = len(failed.events) + 1  # + ExecutionRedriven
    checkpoint = through_json(failed.checkpoint.for_redrive(stored))
    up = FakeInvoker({LAMBDA + "a": 1, LAMBDA + "b": 2})
    outcome = run_execution(machine, None, execution_info(), Ports(tasks=up, clock=FakeClock()),
                            checkpoint=checkpoint)
    assert isinstance(outcome, Succeeded) and outcome.output == [1, 2]
    ids = [e["id"] for e in outcome.events]
    assert ids == list(range(stored + 1, stored + 1 + len(ids)))
    assert outcome.events[0]["type"] == "ParallelStateEntered"


def test_random_draws_in_item_selectors_stay_in_their_iteration_across_suspensions() -> None:
    definition = inline_map(3, ItemSelector={"u.$": "States.UUID()", "v.$": "$$.Map.Item.Value"})
    outcome, events = drive(definition, [1, 2, 3], lambda r: r.parameters)
    assert isinstance(outcome, Succeeded)
    assert [o["v"] for o in outcome.output] == [1, 2, 3]
    assert len({o["u"] for o in outcome.output}) == 3
    first = run(definition, [1, 2, 3])
    assert isinstance(first, Suspended)
    # Nothing is journaled after the open fork in the execution's own journal.
    assert first.checkpoint.entries[-1]["k"] == "fork"
    # Each iteration's UUID is the one its first run drew (replayed, not drawn again).
    sent = {k: v["request"]["parameters"]["u"] for k, v in first.checkpoint.pending.items()}
    checkpoint = through_json(first.checkpoint)
    key = sorted(checkpoint.pending)[0]
    checkpoint.answer(key, "x")
    again = run(definition, None, checkpoint)
    assert isinstance(again, Suspended)
    assert {k: v["request"]["parameters"]["u"] for k, v in again.checkpoint.pending.items()} == {
        k: u for k, u in sent.items() if k != key}


def test_a_long_wait_in_one_branch_and_a_task_in_another_are_pending_together() -> None:
    definition = parallel(["a", "b"])
    branch = definition["States"]["P"]["Branches"][0]
    branch["StartAt"] = "Nap"
    branch["States"]["Nap"] = {"Type": "Wait", "Seconds": 3600, "Next": "a"}
    machine = parse_definition(definition)
    clock = FakeClock(suspend_after=1)
    first = run_execution(machine, {}, execution_info(), Ports(tasks=Suspending(), clock=clock))
    assert isinstance(first, Suspended)
    kinds = sorted(call["kind"] for call in first.checkpoint.pending.values())
    assert kinds == ["task", "wait"]
    checkpoint = through_json(first.checkpoint)
    wait_key = next(k for k, c in checkpoint.pending.items() if c["kind"] == "wait")
    assert checkpoint.answer(wait_key)
    second = run_execution(machine, None, execution_info(), Ports(tasks=Suspending(), clock=clock),
                           checkpoint=checkpoint)
    assert isinstance(second, Suspended)
    # The waiting branch went on to its Task: now two Tasks are pending.
    assert sorted(c["kind"] for c in second.checkpoint.pending.values()) == ["task", "task"]
    assert [e["type"] for e in second.events][:2] == ["WaitStateExited", "TaskStateEntered"]


class HandOver:
    """A worker's MapRunner: a nested Distributed Map hands the child to the control plane."""

    def start(self, request: Any) -> str:
        from orchestrator.asl import Pending

        raise Pending(request)

    def result(self, map_run_arn: str) -> Any:
        raise AssertionError("never reached on a worker")


def test_child_branch_reaching_a_distributed_map_suspends_once_the_pool_is_idle() -> None:
    definition = parallel(["a"])
    definition["States"]["P"]["Branches"].append({"StartAt": "D", "States": {"D": {
        "Type": "Map", "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                          "StartAt": "X", "States": {"X": {"Type": "Pass", "End": True}}},
    }}})
    invoker = BarrierInvoker(1)
    outcome = run_execution(parse_definition(definition), [1, 2], execution_info(),
                            Ports(tasks=invoker, clock=FakeClock(), map_runner=HandOver()))
    assert isinstance(outcome, Suspended)
    # The Task ran in the pool; only the Map Run start is left for the control plane.
    assert invoker.calls == ["a"]
    assert [c["kind"] for c in outcome.checkpoint.pending.values()] == ["map_start"]
    assert outcome.checkpoint.pending[outcome.fresh[0]]["request"]["kind"] == "map"
