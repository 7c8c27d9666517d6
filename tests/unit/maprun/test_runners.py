"""The child runner and the parent runner on the memory stores (no network, no Celery)."""

from __future__ import annotations

import json
from typing import Any

from maprun_world import EXECUTION, MACHINE, PROCESSOR, World, request

from orchestrator import messages
from orchestrator.statuses import ChildStatus, ExecutionStatus, MapRunStatus
from orchestrator.store.maprun_base import Closing


def one_segment(world: World, values: list[Any], **options: Any) -> tuple[str, list[messages.ChildBatch]]:
    arn = world.start(request(values, max_concurrency=len(values), **options))
    world.run_control()
    batches, _, _ = world.bus.segments.popleft()
    return arn, batches


def test_the_child_runner_reports_each_child_and_keeps_an_outbox_copy() -> None:
    world = World()
    arn, batches = one_segment(world, [{"id": 0, "fail": False}, {"id": 1, "fail": False}])
    reports = world.run_children(batches)
    outcomes = [o for r in reports for o in r.outcomes]
    assert [(o.index, o.status, o.output) for o in outcomes] == [
        (0, ChildStatus.SUCCEEDED, '{"id":0}'), (1, ChildStatus.SUCCEEDED, '{"id":1}')]
    assert all(o.history and o.history[0]["type"] == "ExecutionStarted" for o in outcomes)
    # The outbox holds each outcome until the control plane records it
    assert world.store.late_outcomes(arn, [0, 1]) == outcomes
    for report in reports:
        world.deliver(report)
    assert world.store.late_outcomes(arn, [0, 1]) == [None, None]


def test_express_children_keep_no_history_and_no_outbox_copy() -> None:
    world = World()
    arn, batches = one_segment(world, [{"id": 0, "fail": False}], execution_type="EXPRESS")
    (report,) = world.run_children(batches)
    assert report.outcomes[0].history is None
    assert world.store.late_outcomes(arn, [0]) == [None]


def test_a_redelivered_message_does_not_run_a_succeeded_standard_child_again() -> None:
    world = World()
    _, batches = one_segment(world, [{"id": 0, "fail": False}])
    (first,) = world.run_children(batches)
    world.deliver(first)
    (again,) = world.run_children(batches)
    assert again.outcomes[0].skipped and again.outcomes[0].status is ChildStatus.SUCCEEDED


def test_a_redelivered_express_message_whose_children_were_recorded_runs_nothing() -> None:
    # An EXPRESS message reads no statuses (only a succeeded STANDARD child is skipped): its
    # recorded children released their permits, so a redelivery claims none and runs none.
    world = World()
    arn, batches = one_segment(world, [{"id": 0, "fail": False}, {"id": 1, "fail": False}],
                               execution_type="EXPRESS")
    for report in world.run_children(batches):
        world.deliver(report)
    assert [r.outcomes for r in world.run_children(batches)] == [[]] * len(batches)
    items, _ = world.store.counters(arn)
    assert (items.succeeded, items.running) == (2, 0)


def test_no_child_starts_once_its_map_run_has_failed() -> None:
    world = World()
    arn, batches = one_segment(world, [{"id": 0, "fail": False}, {"id": 1, "fail": False}])
    world.store.begin_closing(arn, Closing(MapRunStatus.FAILED, "E", "C"))
    reports = world.run_children(batches)
    assert [(o.status, o.skipped) for r in reports for o in r.outcomes] == [
        (ChildStatus.ABORTED, True), (ChildStatus.ABORTED, True)]


def test_a_failed_standard_child_keeps_its_journal_and_resumes_from_it_on_redrive() -> None:
    world = World()
    arn, batches = one_segment(world, [{"id": 0, "fail": True}], count=0)
    (report,) = world.run_children(batches)
    outcome = report.outcomes[0]
    assert (outcome.status, outcome.error) == (ChildStatus.FAILED, "App.Boom")
    assert world.store._runs[arn].journals[0]
    world.deliver(report)
    assert world.store.status(arn) is MapRunStatus.FAILED
    # When the Map Run is redriven, the child resumes at the state that failed
    world.coordinator.redrive(arn)
    world.run_control()
    batches, _, _ = world.bus.segments.popleft()
    assert batches[0].redrive_count == 1
    (again,) = world.run_children(batches)
    types = [e["type"] for e in again.outcomes[0].history or []]
    assert types[0] == "ExecutionRedriven" and "ChoiceStateEntered" not in types


def _machine_and_execution(world: World, definition: dict[str, Any], payload: Any) -> None:
    world.records.insert_state_machine({
        "stateMachineArn": MACHINE, "name": "orders", "definition": json.dumps(definition),
        "roleArn": "arn:aws:iam::000000000000:role/r", "type": "STANDARD", "status": "ACTIVE",
        "creationDate": world.clock.now})
    world.records.insert_execution({
        "executionArn": EXECUTION, "stateMachineArn": MACHINE, "name": "run-1",
        "status": "RUNNING", "startDate": world.clock.now,
        "input": json.dumps(payload), "redriveCount": 0})


def _parent(world: World, items: list[Any]) -> None:
    definition = {"StartAt": "Process", "States": {
        "Process": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
                    "ItemProcessor": PROCESSOR, "ResultPath": "$.results", "Next": "Finish"},
        "Finish": {"Type": "Pass", "OutputPath": "$.results", "End": True}}}
    _machine_and_execution(world, definition, {"items": items})


def test_a_parent_suspends_at_its_distributed_map_and_resumes_with_its_result() -> None:
    world = World()
    _parent(world, [{"id": i, "fail": False} for i in range(5)])
    # When the parent is advanced, it starts a Map Run and suspends
    world.parents.advance(EXECUTION)
    (map_run,) = world.store.list_for_execution(EXECUTION)
    assert world.records.get_execution(EXECUTION)["status"] == "RUNNING"  # type: ignore[index]
    # Then, once the Map Run's children ran, the Map Run resumes it to the end
    world.drain()
    execution = world.records.get_execution(EXECUTION)
    assert execution is not None and execution["status"] == ExecutionStatus.SUCCEEDED
    assert json.loads(execution["output"]) == [{"id": i} for i in range(5)]
    events = [e["type"] for e in world.records.get_history(EXECUTION, 0, 100)]
    assert "MapRunStarted" in events and "MapRunSucceeded" in events
    assert world.store.status(map_run) is MapRunStatus.SUCCEEDED


def test_a_parent_fails_with_its_map_runs_error() -> None:
    world = World()
    _parent(world, [{"id": 0, "fail": True}, {"id": 1, "fail": False}])
    world.parents.advance(EXECUTION)
    world.drain()
    execution = world.records.get_execution(EXECUTION)
    assert execution is not None and execution["status"] == ExecutionStatus.FAILED
    assert execution["error"] == "States.ExceedToleratedFailureThreshold"


def test_a_child_input_over_the_payload_limit_fails_that_child_only() -> None:
    # Regression (issue 9): an oversized child input ran although docs/decisions.md says it fails.
    world = World()
    big = {"id": 1, "fail": False, "pad": "x" * 262_144}
    _, batches = one_segment(world, [{"id": 0, "fail": False}, big])
    outcomes = [o for r in world.run_children(batches) for o in r.outcomes]
    assert [(o.index, o.status) for o in outcomes] == [
        (0, ChildStatus.SUCCEEDED), (1, ChildStatus.FAILED)]
    assert outcomes[1].error == "States.DataLimitExceeded"
    assert "262144" in (outcomes[1].cause or "")


def test_the_liveness_sweep_starts_an_execution_whose_start_message_was_lost() -> None:
    # Regression (issue 9): an execution stored by StartExecution whose start message was never
    # sent (the API was killed in between) stayed RUNNING with an empty history forever.
    world = World()
    _parent(world, [{"id": 0, "fail": False}])
    assert world.parents.sweep() == 0  # not stranded yet: its start message may be on its way
    world.clock.advance(world.settings.limits.stranded_execution_seconds + 1)
    assert world.parents.sweep() == 1
    assert world.parents.sweep() == 0  # looked at now: not again before the interval
    world.drain()
    execution = world.records.get_execution(EXECUTION)
    assert execution is not None and execution["status"] == ExecutionStatus.SUCCEEDED
    # An ended execution leaves the sweep's set
    world.clock.advance(world.settings.limits.stranded_execution_seconds + 1)
    assert world.parents.sweep() == 0
    assert world.records.stale_open_executions(world.clock() + 1e6, 10) == []


def test_the_liveness_sweep_resumes_a_parent_whose_resume_message_was_lost() -> None:
    # Regression (issue 9): a control worker killed while holding a parent's resume message
    # left the parent waiting for the broker's redelivery (an hour).
    world = World()
    _parent(world, [{"id": 0, "fail": False}])
    world.parents.advance(EXECUTION)
    while world.bus.segments:
        world.run_segment()
    # The Map Run ended; its resume message to the parent is lost with a killed worker
    world.bus.control = type(world.bus.control)(
        (n, a) for n, a in world.bus.control if n != messages.ADVANCE_EXECUTION)
    world.run_control()
    assert world.records.get_execution(EXECUTION)["status"] == "RUNNING"  # type: ignore[index]
    world.clock.advance(world.settings.limits.stranded_execution_seconds + 1)
    assert world.parents.sweep() == 1
    world.drain()
    assert world.records.get_execution(EXECUTION)["status"] == "SUCCEEDED"  # type: ignore[index]


def _stopped_during_its_map_run_then_redriven(world: World) -> str:
    """StopExecution during the Map Run, then RedriveExecution's record changes; the Map Run."""
    _parent(world, [{"id": i, "fail": False} for i in range(6)])
    world.parents.advance(EXECUTION)
    world.run_control()
    world.run_segment()  # the first two children end
    world.records.transition_execution(EXECUTION, ["RUNNING"], {"status": "ABORTED"})
    world.coordinator.abort(EXECUTION)
    (map_run,) = world.store.list_for_execution(EXECUTION)
    assert world.store.status(map_run) is MapRunStatus.ABORTED
    world.bus.segments.clear()
    world.records.transition_execution(
        EXECUTION, ["ABORTED"],
        {"status": "RUNNING", "redriveCount": 1, "redriveDate": world.clock.now},
        {"type": "ExecutionRedriven", "timestamp": 0.0})
    return map_run


def _assert_redriven_to_the_end(world: World, map_run: str) -> None:
    world.drain()
    execution = world.records.get_execution(EXECUTION)
    assert execution is not None and execution["status"] == ExecutionStatus.SUCCEEDED, execution
    assert json.loads(execution["output"]) == [{"id": i} for i in range(6)]
    assert world.store.status(map_run) is MapRunStatus.SUCCEEDED


def test_a_redrive_of_an_execution_stopped_during_its_map_run_runs_the_unfinished_items() -> None:
    # Regression (issue 9): it failed at once with States.MapRunFailed and an empty cause.
    world = World()
    map_run = _stopped_during_its_map_run_then_redriven(world)
    world.parents.redrive(EXECUTION)  # the redrive message
    _assert_redriven_to_the_end(world, map_run)


def test_the_liveness_sweep_redrives_an_execution_whose_redrive_message_was_lost() -> None:
    # Regression (issue 9): a RedriveExecution whose control message was lost with a killed
    # control worker never happened: the sweep's advance ran the unredriven journal and the
    # execution failed again at once.
    world = World()
    map_run = _stopped_during_its_map_run_then_redriven(world)
    # (the redrive message is lost with a killed control worker)
    world.clock.advance(world.settings.limits.stranded_execution_seconds + 1)
    assert world.parents.sweep() == 1
    _assert_redriven_to_the_end(world, map_run)


def test_a_redrive_is_applied_once_whatever_messages_bring_it() -> None:
    # A late advance before the redrive message, then the redrive message itself: the Map Run
    # is redriven once, and the redrive message does not redrive it again.
    world = World()
    map_run = _stopped_during_its_map_run_then_redriven(world)
    world.parents.advance(EXECUTION)
    assert world.store.get(map_run).redrive_count == 1  # type: ignore[union-attr]
    world.parents.redrive(EXECUTION)
    world.parents.advance(EXECUTION)
    assert world.store.get(map_run).redrive_count == 1  # type: ignore[union-attr]
    types = [e["type"] for e in world.records.get_history(EXECUTION, 0, 1000)]
    assert types.count("MapRunRedriven") == 1
    _assert_redriven_to_the_end(world, map_run)


def test_an_advance_that_died_after_redriving_the_map_run_does_not_redrive_it_again() -> None:
    # The control process died after the Map Run's redrive and before the execution's
    # redriven checkpoint was saved: the next advance must neither redrive the Map Run twice
    # nor start a new Map Run (which would run the succeeded children again).
    world = World()
    map_run = _stopped_during_its_map_run_then_redriven(world)
    world.clock.advance(1)
    world.coordinator.redrive(map_run)  # what the dead advance got done
    world.parents.advance(EXECUTION)
    assert world.store.list_for_execution(EXECUTION) == [map_run]
    assert world.store.get(map_run).redrive_count == 1  # type: ignore[union-attr]
    _assert_redriven_to_the_end(world, map_run)



def test_an_execution_whose_advance_kills_its_control_process_every_time_fails() -> None:
    # Issue 9: a message redelivered more than a bounded number of times fails its execution
    # with States.Runtime and a cause that says why, instead of looping.
    world = World()
    _parent(world, [{"id": 0, "fail": False}])
    for _ in range(5):
        world.store.begin_advance(EXECUTION)  # five advances that died with their process
    world.parents.advance(EXECUTION)
    execution = world.records.get_execution(EXECUTION)
    assert execution is not None and execution["status"] == ExecutionStatus.FAILED
    assert execution["error"] == "States.Runtime"
    assert "died each time" in execution["cause"]


def test_an_advance_that_ends_does_not_count_towards_the_bound() -> None:
    world = World()
    _parent(world, [{"id": 0, "fail": False}])
    for _ in range(10):
        world.parents.advance(EXECUTION)  # waits for its Map Run each time
    assert world.records.get_execution(EXECUTION)["status"] == "RUNNING"  # type: ignore[index]
    world.drain()
    assert world.records.get_execution(EXECUTION)["status"] == "SUCCEEDED"  # type: ignore[index]


def _task_parent(world: World) -> None:
    definition = {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "echo", "Payload.$": "$"}, "End": True}}}
    _machine_and_execution(world, definition, {})


def _answer_last_call(world: World, **report: Any) -> None:
    call = world.bus.invocations[-1]
    world.parents.task_done(messages.TaskReport(execution_arn=EXECUTION,
                                                sequence=call.sequence, **report))


def test_a_redriven_task_is_not_answered_by_the_result_of_the_call_that_failed() -> None:
    # Regression: the redriven call keeps its number, and the failed call's stored result
    # answered it at the next advance (the liveness sweep's), failing the execution again.
    world = World()
    _task_parent(world)
    world.parents.advance(EXECUTION)
    _answer_last_call(world, ok=False, error="App.Down", cause="first attempt")
    assert world.records.get_execution(EXECUTION)["status"] == "FAILED"  # type: ignore[index]
    world.records.transition_execution(
        EXECUTION, ["FAILED"], {"status": "RUNNING", "redriveCount": 1,
                                "redriveDate": world.clock.now},
        {"type": "ExecutionRedriven", "timestamp": 0.0})
    world.parents.redrive(EXECUTION)
    assert len(world.bus.invocations) == 2  # the call is made again
    world.clock.advance(world.settings.limits.stranded_execution_seconds + 1)
    assert world.parents.sweep() == 1
    world.run_control()
    assert world.records.get_execution(EXECUTION)["status"] == "RUNNING"  # type: ignore[index]
    assert len(world.bus.invocations) == 2  # and not sent again by the sweep's advance
    _answer_last_call(world, ok=True, result={"Payload": "second"})
    execution = world.records.get_execution(EXECUTION)
    assert execution is not None and execution["status"] == "SUCCEEDED", execution


def test_a_stale_delivery_taken_while_its_map_run_was_stopped_does_not_abort_the_redriven_run() -> None:
    # Regression (chaos tier, a stop-and-redrive with the control worker killed after the
    # redrive): a message of the stopped run, taken by a worker while the Map Run was ABORTED,
    # reported its child ABORTED although its delivery held no permit; recorded after the
    # redrive, that report took the child out of the redriven run (19 items missing).
    world = World()
    arn = world.start(request([{"id": i, "fail": False} for i in range(2)], max_concurrency=2))
    world.run_control()
    stale, _, _ = world.bus.segments.popleft()  # still queued when the execution is stopped
    world.coordinator.abort(EXECUTION)
    assert world.store.status(arn) is MapRunStatus.ABORTED
    world.bus.control.clear()
    late = world.run_children(stale)  # a worker takes it while the run is ABORTED
    world.coordinator.redrive(arn)
    world.run_control()
    for report in late:  # its report reaches the control plane after the redrive
        world.deliver(report)
    ended = world.ended(arn)
    assert ended.status is MapRunStatus.SUCCEEDED
    assert ended.result == [{"id": i} for i in range(2)]


def test_a_stop_message_that_comes_after_the_redrive_does_not_abort_the_redriven_run() -> None:
    # Regression (chaos long form, the execution stopped during its Map Run and redriven while
    # faults go on): StopExecution ended the execution, RedriveExecution made it RUNNING again,
    # and only then the stop's control message (late: held by a killed control worker, or
    # overtaken by the redrive) aborted the execution's open Map Run; the redriven execution
    # failed with States.MapRunFailed and an empty cause.
    world = World()
    _parent(world, [{"id": i, "fail": False} for i in range(6)])
    world.parents.advance(EXECUTION)
    world.run_control()
    world.run_segment()  # the first two children end
    (map_run,) = world.store.list_for_execution(EXECUTION)
    world.records.transition_execution(EXECUTION, ["RUNNING"], {"status": "ABORTED"})
    # (the stop message is late)
    world.records.transition_execution(
        EXECUTION, ["ABORTED"],
        {"status": "RUNNING", "redriveCount": 1, "redriveDate": world.clock.now},
        {"type": "ExecutionRedriven", "timestamp": 0.0})
    world.parents.redrive(EXECUTION)
    world.bus.send_control(messages.STOP_EXECUTION, EXECUTION)  # the late stop message
    world.run_control()
    assert world.store.status(map_run) is MapRunStatus.RUNNING
    _assert_redriven_to_the_end(world, map_run)


def test_a_stop_message_aborts_the_map_run_of_a_stopped_execution() -> None:
    world = World()
    _parent(world, [{"id": i, "fail": False} for i in range(6)])
    world.parents.advance(EXECUTION)
    world.run_control()
    (map_run,) = world.store.list_for_execution(EXECUTION)
    world.records.transition_execution(EXECUTION, ["RUNNING"], {"status": "ABORTED"})
    world.bus.send_control(messages.STOP_EXECUTION, EXECUTION)
    world.run_control()
    assert world.store.status(map_run) is MapRunStatus.ABORTED


def test_a_map_run_read_by_its_parent_after_an_abort_says_why() -> None:
    # A Map Run never fails its parent with an empty cause: an aborted one has no cause of
    # its own (before: States.MapRunFailed with cause "").
    world = World()
    arn = world.start(request([{"id": 0, "fail": False}], max_concurrency=1))
    world.run_control()
    world.coordinator.abort(EXECUTION)
    ended = world.coordinator.result(arn)
    assert ended is not None and ended.status is MapRunStatus.ABORTED
    assert ended.error == "States.MapRunFailed"
    assert ended.cause is not None and arn in ended.cause and "aborted" in ended.cause
