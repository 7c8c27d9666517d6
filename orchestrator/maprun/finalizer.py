"""Closing a Map Run: abort what still runs, write or collect the results, resume the parent.

Results are streamed child by child in index order from the store into the ResultWriter's files
(or into the inline output array, bounded by the payload limit), never gathered in one process
beyond one chunk (docs/architecture.md invariant 7). With ``limits.result_stream_bytes`` set
(the default), most of a ResultWriter's files were uploaded while the children ran
(``streaming.py``): closing writes only what is left, completes the uploads and writes the
manifest.

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

import logging
from collections.abc import Iterator
from typing import Any

from orchestrator import messages
from orchestrator.asl import StatesError
from orchestrator.asl import errors as asl_errors
from orchestrator.jsontext import dumps, loads
from orchestrator.maprun import admission, result_records, streaming
from orchestrator.maprun.deps import Deps
from orchestrator.maprun.leases import LeaseHeld
from orchestrator.maprun.plan import MapRunPlan
from orchestrator.statuses import ChildStatus, MapRunStatus
from orchestrator.store.maprun_base import Lease
from orchestrator.store.maprun_record import Closing, MapRun

log = logging.getLogger(__name__)


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


class _LeaseLost(Exception):
    """The finalize lease was taken over while the results were being written."""


def _children(deps: Deps, run: MapRun, held: LeaseHeld, *,
              inputs_for: frozenset[str] = frozenset()) -> Iterator[result_records.Child]:
    def check() -> None:
        if held.lost:
            raise _LeaseLost

    return result_records.children(deps, run, inputs_for=inputs_for, stop_check=check)


def _results(deps: Deps, run: MapRun, held: LeaseHeld) -> Any:
    destination = MapRunPlan.of(run.request).destination
    if destination is not None and destination.bucket is not None:
        from orchestrator.writer import ResultFileWriter

        if streaming.destination_of(deps, run) is not None:
            def check() -> None:
                if held.lost:
                    raise _LeaseLost

            streamed = streaming.close(deps, run, destination, held, check)
            if streamed is not None:
                return {"MapRunArn": run.arn, "ResultWriterDetails": streamed}
            # Streaming failed on the way: every file is written from the start.
        out = ResultFileWriter(deps.s3, bucket=destination.bucket, prefix=destination.prefix,
                               map_run_arn=run.arn, writer_config=destination.writer_config,
                               max_file_bytes=deps.settings.limits.result_file_bytes)
        try:
            for index, status, child, child_input in _children(
                deps, run, held, inputs_for=result_records.inputs_for(destination)
            ):
                out.add(status, result_records.record(run, index, status, child, child_input))
        except (_LeaseLost, StatesError):
            out.abort()  # no open multipart upload (nor its upload thread) is left behind
            raise
        details = out.close()
        return {"MapRunArn": run.arn, "ResultWriterDetails": details}
    if destination is not None and destination.writer_config:
        from orchestrator.writer import transform_results

        records = ((status, result_records.record(run, index, status, child, child_input))
                   for index, status, child, child_input in _children(
                       deps, run, held, inputs_for=result_records.inputs_for(destination)))
        return transform_results(records, destination.writer_config)
    return _inline_output(deps, run, held)


def _inline_output(deps: Deps, run: MapRun, held: LeaseHeld) -> list[Any]:
    limit = deps.settings.limits.payload_bytes
    size = 2
    out: list[Any] = []
    for _index, status, child, _input in _children(deps, run, held):
        if status == ChildStatus.SUCCEEDED and child is not None:
            text = child.output if child.output is not None else "null"
        elif child is not None and status != result_records.PENDING:
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
        out.append(loads(text))
    return out
