"""Closing a Map Run: abort what still runs, write or collect the results, resume the parent.

Results are streamed child by child in index order from the store into the ResultWriter's files
(or into the inline output array, bounded by the payload limit), never gathered in one process
beyond one chunk (docs/architecture.md invariant 7).

One control process closes a Map Run at a time, under a short lease it renews while it works
(``limits.finalize_lease_seconds``). If that process dies, the lease lapses within seconds and
the next progress check takes over from the start: result files have fixed names, so the
takeover writes each of them once more in full and the manifest is written once, at the end.
The Map Run's final status is stored only while the lease is still held.

Decision (docs/spec.md 8.7, unverified): without a ResultWriter, the slot of a tolerated failed,
timed-out or aborted child in the output array holds its error output ``{"Error", "Cause"}``,
so the array keeps one element per child in order and the failure stays visible.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from orchestrator import messages
from orchestrator.asl import StatesError
from orchestrator.asl import errors as asl_errors
from orchestrator.jsontext import dumps
from orchestrator.maprun import admission
from orchestrator.maprun.deps import Deps, child_name
from orchestrator.maprun.leases import LeaseHeld
from orchestrator.maprun.plan import MapRunPlan, ResultDestination
from orchestrator.statuses import ChildStatus, MapRunStatus
from orchestrator.store.maprun_base import ChildRecord, Lease
from orchestrator.store.maprun_record import Closing, MapRun

log = logging.getLogger(__name__)

#: Children read per round trip when closing a run (their inputs can be 256 KiB each).
CHUNK = 64
PENDING = "PENDING"
ALL_STATUSES = frozenset({*(s.value for s in ChildStatus if s is not ChildStatus.SUSPENDED),
                          PENDING})
#: Without a transformation every record carries its Input; with COMPACT/FLATTEN only the
#: unsuccessful ones do (they are always written as full records).
WITH_INPUT_WHEN_TRANSFORMED = ALL_STATUSES - {ChildStatus.SUCCEEDED.value}


def finish(deps: Deps, arn: str, status: MapRunStatus, error: str | None = None,
           cause: str | None = None) -> None:
    """Close the Map Run with ``status`` (SUCCEEDED, FAILED or ABORTED); idempotent."""
    store = deps.store
    ttl_ms = int(deps.settings.limits.finalize_lease_seconds * 1000)
    held = LeaseHeld.acquire(store, Lease.FINALIZE, arn, ttl_ms)
    if held is None:
        return  # another control process is closing it
    with held:
        run = store.get(arn)
        if run is None or not run.status.is_open:
            return
        if status is not MapRunStatus.SUCCEEDED:
            store.begin_closing(arn, Closing(status, error, cause))
        # Failing: the children still running are ABORTED. Succeeding: every child is
        # recorded, and the permits left are extra dispatches of recorded children (a lapsed
        # lease dispatched again); dropping them leaves DescribeMapRun's ``running`` at 0.
        store.abort_running(arn)
        result: str | None = None
        try:
            value = _results(deps, run, held)
            if status is MapRunStatus.SUCCEEDED:
                result = dumps(value)
        except StatesError as exc:
            status, error, cause = MapRunStatus.FAILED, exc.error, exc.cause
        except _LeaseLost:
            return  # taken over meanwhile: the new holder writes the results
        if not held.renew():
            return  # taken over meanwhile: the new holder stores the outcome
        store.finish(arn, status, stop_date=deps.clock(), result=result, error=error,
                     cause=cause)
    items, _ = store.counters(arn)
    log.info("map run %s %s: %d succeeded, %d failed, %d aborted of %d items", arn,
             status.value, items.succeeded, items.failed, items.aborted, items.total)
    deps.bus.send_control(messages.ADVANCE_EXECUTION, run.execution_arn)
    admission.admit(deps)  # a slot is free (docs/extensions.md)


def _children(deps: Deps, run: MapRun, held: LeaseHeld, *,
              inputs_for: frozenset[str] = frozenset()
              ) -> Iterator[tuple[int, str, ChildRecord | None, str]]:
    """(index, status, child record, input JSON) in index order; PENDING when never finished.

    Inputs (up to 256 KiB each) are fetched only for the statuses in ``inputs_for``, and a few
    children at a time, so closing a run of large batches stays small in memory.
    """
    from orchestrator.readers.ranges import readable

    store = deps.store
    total = run.feed.next
    for start in range(0, total, CHUNK):
        if held.lost:
            raise _LeaseLost
        indexes = list(range(start, min(total, start + CHUNK)))
        statuses = [st.value if st is not None else PENDING
                    for st in store.child_statuses(run.arn, indexes)]
        records = store.child_records(run.arn, indexes)
        wanted = [i for i, st in zip(indexes, statuses, strict=True) if st in inputs_for]
        inputs = dict(zip(wanted, readable(deps.s3, store.child_inputs(run.arn, wanted)),
                          strict=True))
        for index, st, record in zip(indexes, statuses, records, strict=True):
            yield index, st, record, inputs.get(index) or "null"


class _LeaseLost(Exception):
    """The finalize lease was taken over while the results were being written."""


def _iso(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


def _record(run: MapRun, index: int, status: str, child: ChildRecord | None,
            child_input: str) -> dict[str, Any]:
    from orchestrator.writer import result_record

    name = child.name if child else child_name(run.map_run_id, index)
    if status == ChildStatus.SUCCEEDED:
        redrive = ("NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven")
    elif status == PENDING:
        redrive = ("NOT_REDRIVABLE", "Execution has not started")
    else:
        redrive = ("REDRIVABLE", "")
    return result_record(
        execution_arn=run.execution_prefix + name, name=name,
        state_machine_arn=run.labelled_arn, status=status, input=child_input,
        output=child.output if child else None,
        error=child.error if child else None, cause=child.cause if child else None,
        start_date=(_iso(child.start) if child else None) or datetime.now(UTC),
        stop_date=_iso(child.stop) if child else None,
        redrive_count=run.redrive_count,
        redrive_status=redrive[0], redrive_status_reason=redrive[1],
    )


def _results(deps: Deps, run: MapRun, held: LeaseHeld) -> Any:
    destination = MapRunPlan.of(run.request).destination
    if destination is not None and destination.bucket is not None:
        from orchestrator.writer import ResultFileWriter

        out = ResultFileWriter(deps.s3, bucket=destination.bucket, prefix=destination.prefix,
                               map_run_arn=run.arn, writer_config=destination.writer_config,
                               max_file_bytes=deps.settings.limits.result_file_bytes)
        try:
            for index, status, child, child_input in _children(
                deps, run, held, inputs_for=_inputs_for(destination)
            ):
                out.add(status, _record(run, index, status, child, child_input))
        except (_LeaseLost, StatesError):
            out.abort()  # no open multipart upload (nor its upload thread) is left behind
            raise
        details = out.close()
        return {"MapRunArn": run.arn, "ResultWriterDetails": details}
    if destination is not None and destination.writer_config:
        from orchestrator.writer import transform_results

        records = ((status, _record(run, index, status, child, child_input))
                   for index, status, child, child_input in _children(
                       deps, run, held, inputs_for=_inputs_for(destination)))
        return transform_results(records, destination.writer_config)
    return _inline_output(deps, run, held)


def _inputs_for(destination: ResultDestination) -> frozenset[str]:
    if destination.transformation in ("COMPACT", "FLATTEN"):
        return WITH_INPUT_WHEN_TRANSFORMED
    return ALL_STATUSES


def _inline_output(deps: Deps, run: MapRun, held: LeaseHeld) -> list[Any]:
    limit = deps.settings.limits.payload_bytes
    size = 2
    out: list[Any] = []
    for _index, status, child, _input in _children(deps, run, held):
        if status == ChildStatus.SUCCEEDED and child is not None:
            text = child.output if child.output is not None else "null"
        elif child is not None and status != PENDING:
            text = dumps({"Error": child.error or "", "Cause": child.cause or ""})
        else:
            continue
        size += len(text.encode()) + 1
        if size > limit:
            raise StatesError(
                asl_errors.DATA_LIMIT_EXCEEDED,
                f"The state/task '{run.state_name}' returned a result with a size "
                "exceeding the maximum number of bytes service limit.",
            )
        out.append(json.loads(text))
    return out
