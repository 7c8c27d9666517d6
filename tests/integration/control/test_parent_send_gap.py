"""A control process killed between saving a parent's checkpoint and sending its Task (issue 9).

Real Redis, a real SIGKILL: a control process (a subprocess running the parent runner on the
Redis stores) advances an execution to its Task, saves the checkpoint, and is killed by its
own bus at the moment it would hand the Task to the broker. The Task used to be never sent:
the liveness sweep's advance waited for a result that could not come. Now the advance that
finds the wait unmarked sends the call, once.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import redis
from maprun_world import RecordingBus

from orchestrator import messages
from orchestrator.control.parent import ParentRunner
from orchestrator.maprun import Deps, MapRunCoordinator
from orchestrator.settings import Settings
from orchestrator.statuses import ExecutionStatus
from orchestrator.store.keys import Keys
from orchestrator.store.maprun_base import Lease
from orchestrator.store.maprun_redis import RedisMapRunStore
from orchestrator.store.redis_store import RedisStore

PREFIX = "sendgap"
MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:gap"
EXECUTION = "arn:aws:states:us-east-1:000000000000:execution:gap:run-1"
DEFINITION = {"StartAt": "Call", "States": {"Call": {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "echo", "Payload.$": "$"}, "End": True}}}

#: The control process: its bus kills the process when the parent's Task is to be sent.
DYING_CONTROL = textwrap.dedent("""
    import os, signal, sys
    from orchestrator.control import parent
    from orchestrator.control.parent import ParentRunner
    from orchestrator.maprun import Deps, MapRunCoordinator
    from orchestrator.settings import Settings
    from orchestrator.store.maprun_redis import RedisMapRunStore
    from orchestrator.store.redis_store import RedisStore

    class DyingBus:
        def send_control(self, name, *args, countdown=None):
            pass
        def send_segment(self, batches, map_run_arn, segment):
            pass
        def send_task_invocation(self, invocation):
            os.kill(os.getpid(), signal.SIGKILL)

    url, prefix, arn = sys.argv[1:4]
    parent.LOCK_MS = 1000  # a short advance lease, so that the test need not wait 15 s
    bus = DyingBus()
    coordinator = MapRunCoordinator(Deps(store=RedisMapRunStore.from_url(url, prefix),
                                         bus=bus, s3_factory=lambda: None,
                                         settings=Settings()))
    ParentRunner(coordinator, RedisStore.from_url(url, prefix), bus).advance(arn)
""")


def _runner(url: str, bus: RecordingBus, clock: Any) -> tuple[ParentRunner, RedisStore]:
    records = RedisStore.from_url(url, PREFIX)
    coordinator = MapRunCoordinator(Deps(store=RedisMapRunStore.from_url(url, PREFIX), bus=bus,
                                         s3_factory=lambda: None, settings=Settings(),
                                         clock=clock))
    return ParentRunner(coordinator, records, bus), records


def _advance_what_was_sent(runner: ParentRunner, bus: RecordingBus) -> None:
    while bus.control:
        name, args = bus.control.popleft()
        assert name == messages.ADVANCE_EXECUTION
        runner.advance(*args)


def test_a_task_whose_control_process_died_before_sending_it_is_sent_once(
        redis_url: str) -> None:
    now = [time.time()]
    bus = RecordingBus()
    runner, records = _runner(redis_url, bus, lambda: now[0])
    records.insert_state_machine({
        "stateMachineArn": MACHINE, "name": "gap", "definition": json.dumps(DEFINITION),
        "roleArn": "arn:aws:iam::000000000000:role/r", "type": "STANDARD", "status": "ACTIVE",
        "creationDate": now[0]})
    records.insert_execution({
        "executionArn": EXECUTION, "stateMachineArn": MACHINE, "name": "run-1",
        "status": "RUNNING", "startDate": now[0], "input": json.dumps({"n": 1}),
        "redriveCount": 0})

    # Given a control process killed after it saved the checkpoint, before sending the Task
    repo = Path(__file__).resolve().parents[3]
    died = subprocess.run([sys.executable, "-c", DYING_CONTROL, redis_url, PREFIX, EXECUTION],
                          cwd=repo, timeout=120, capture_output=True, text=True)
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert records.get_checkpoint(EXECUTION) is not None
    client = redis.Redis.from_url(redis_url)
    lease = Keys(PREFIX).execution_lock(EXECUTION)
    while client.exists(lease):  # the dead process's short advance lease lapses
        time.sleep(0.05)
    assert not runner.store.lease_held(Lease.ADVANCE, EXECUTION)

    # When the liveness sweep advances it
    now[0] += Settings().limits.stranded_execution_seconds + 1
    assert runner.sweep() == 1
    _advance_what_was_sent(runner, bus)
    # Then the Task is sent, once: neither more advances nor more sweeps send it again
    assert [i.execution_arn for i in bus.invocations] == [EXECUTION]
    for _ in range(3):
        runner.advance(EXECUTION)
        now[0] += Settings().limits.stranded_execution_seconds + 1
        runner.sweep()
        _advance_what_was_sent(runner, bus)
    assert len(bus.invocations) == 1
    # And its result ends the execution
    (invocation,) = bus.invocations
    runner.task_done(messages.TaskReport(execution_arn=EXECUTION, sequence=invocation.sequence,
                                         ok=True, result={"Payload": {"n": 1}}))
    execution = records.get_execution(EXECUTION)
    assert execution is not None and execution["status"] == ExecutionStatus.SUCCEEDED, execution
    client.close()
