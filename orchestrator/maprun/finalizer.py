"""Closing a Map Run: abort what still runs, write or collect the results, resume the parent.

Results are streamed child by child in index order from Redis into the ResultWriter's files
(or into the inline output array, bounded by the payload limit), never gathered in one
process beyond one chunk (ARCHITECTURE invariant 7).

Decision (spec 8.7, unverified): without a ResultWriter, the slot of a tolerated failed,
timed-out or aborted child in the output array holds its error output ``{"Error", "Cause"}``,
so the array keeps one element per child in order and the failure stays visible.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from orchestrator import messages
from orchestrator.asl import StatesError
from orchestrator.asl import errors as asl_errors
from orchestrator.maprun.batching import dumps
from orchestrator.maprun.context import MapRunContext, child_name

log = logging.getLogger(__name__)

#: Children read per round trip when closing a run (their inputs can be 256 KiB each).
CHUNK = 64
ALL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING"})
#: Without a transformation every record carries its Input; with COMPACT/FLATTEN only the
#: unsuccessful ones do (they are always written as full records).
UNSUCCESSFUL = ALL_STATUSES - {"SUCCEEDED"}


def finish(ctx: MapRunContext, arn: str, status: str, error: str | None = None,
           cause: str | None = None) -> None:
    """Close the Map Run with ``status`` (SUCCEEDED, FAILED or ABORTED); idempotent."""
    keys = ctx.keys
    if not ctx.redis.set(keys.map_run_finalize_lock(arn), "1", nx=True, ex=3600):
        return
    rec = ctx.store.get(arn)
    if rec is None:
        return
    ctx.store.update(arn, status="CLOSING" if status != "SUCCEEDED" else rec["status"])
    if status != "SUCCEEDED":
        ctx.scripts.abort_running(
            keys=[keys.map_run_status(arn), keys.map_run_counters(arn),
                  keys.map_run_semaphore(arn), keys.map_run_inputs(arn)],
            args=["ABORTED"],
        )
    request = json.loads(rec["request"])
    fields: dict[str, Any] = {}
    try:
        result = _results(ctx, arn, rec, request)
        if status == "SUCCEEDED":
            fields["result"] = dumps(result)
    except StatesError as exc:
        status, error, cause = "FAILED", exc.error, exc.cause
    fields.update(status=status, stopDate=repr(time.time()))
    if error is not None:
        fields.update(error=error, cause=cause or "")
    ctx.store.update(arn, **fields)
    ctx.store.close(arn)
    ctx.redis.delete(keys.map_run_segments(arn))
    items, _ = ctx.store.counters(arn)
    log.info("map run %s %s: %d succeeded, %d failed, %d aborted of %d items", arn, status,
             items.succeeded, items.failed, items.aborted, items.total)
    ctx.send_control(messages.ADVANCE_EXECUTION, rec["executionArn"])


def _children(ctx: MapRunContext, arn: str, rec: dict[str, str], *,
              inputs_for: frozenset[str] = frozenset()) -> Iterator[tuple[int, str, dict[str, Any] | None, str]]:
    """(index, status, child record, input JSON) in index order; PENDING when never finished.

    Inputs (up to 256 KiB each) are fetched only for the statuses in ``inputs_for``, and a few
    children at a time, so closing a run of large batches stays small in memory.
    """
    keys = ctx.keys
    state = json.loads(rec.get("feedState") or "null") or {"next": 0}
    total = int(state["next"])
    for start in range(0, total, CHUNK):
        fields = [str(i) for i in range(start, min(total, start + CHUNK))]
        statuses = [st.decode() if st else "PENDING"
                    for st in ctx.redis.hmget(keys.map_run_status(arn), fields)]
        records = ctx.redis.hmget(keys.map_run_children(arn), fields)
        wanted = [f for f, st in zip(fields, statuses, strict=True) if st in inputs_for]
        inputs = dict(zip(wanted, ctx.redis.hmget(keys.map_run_inputs(arn), wanted), strict=True)) if wanted else {}
        for f, st, record in zip(fields, statuses, records, strict=True):
            child_input = inputs.get(f)
            yield (int(f), st, json.loads(record) if record else None,
                   child_input.decode() if child_input else "null")


def _iso(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


def _record(rec: dict[str, str], index: int, status: str, child: dict[str, Any] | None,
            child_input: str) -> dict[str, Any]:
    from orchestrator.writer import result_record

    name = child["name"] if child else child_name(rec["mapRunId"], index)
    start = _iso(child.get("start")) if child else None
    if status == "SUCCEEDED":
        redrive = ("NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven")
    elif status == "PENDING":
        redrive = ("NOT_REDRIVABLE", "Execution has not started")
    else:
        redrive = ("REDRIVABLE", "")
    return result_record(
        execution_arn=rec["executionPrefix"] + name, name=name,
        state_machine_arn=rec["labelledArn"], status=status, input=child_input,
        output=child.get("output") if child else None,
        error=child.get("error") if child else None, cause=child.get("cause") if child else None,
        start_date=start or datetime.now(UTC), stop_date=_iso(child.get("stop")) if child else None,
        redrive_count=int(rec.get("redriveCount", "0")),
        redrive_status=redrive[0], redrive_status_reason=redrive[1],
    )


def _results(ctx: MapRunContext, arn: str, rec: dict[str, str], request: dict[str, Any]) -> Any:
    writer = request.get("result_writer") or None
    if writer and writer.get("Resource"):
        from orchestrator.writer import ResultFileWriter

        params = writer.get("Parameters") or {}
        out = ResultFileWriter(ctx.s3, bucket=params["Bucket"], prefix=params.get("Prefix"),
                               map_run_arn=arn, writer_config=writer.get("WriterConfig"),
                               max_file_bytes=ctx.settings.limits.result_file_bytes)
        for index, status, child, child_input in _children(
            ctx, arn, rec, inputs_for=_inputs_for(writer.get("WriterConfig"))
        ):
            out.add(status, _record(rec, index, status, child, child_input))
        details = out.close()
        return {"MapRunArn": arn, "ResultWriterDetails": details}
    if writer and writer.get("WriterConfig"):
        from orchestrator.writer import transform_results

        records = ((status, _record(rec, index, status, child, child_input))
                   for index, status, child, child_input in _children(
                       ctx, arn, rec, inputs_for=_inputs_for(writer["WriterConfig"])))
        return transform_results(records, writer["WriterConfig"])
    return _inline_output(ctx, arn, rec)


def _inputs_for(writer_config: dict[str, Any] | None) -> frozenset[str]:
    transformation = (writer_config or {}).get("Transformation", "NONE")
    return UNSUCCESSFUL if transformation in ("COMPACT", "FLATTEN") else ALL_STATUSES


def _inline_output(ctx: MapRunContext, arn: str, rec: dict[str, str]) -> list[Any]:
    limit = ctx.settings.limits.payload_bytes
    size = 2
    out: list[Any] = []
    for _index, status, child, _input in _children(ctx, arn, rec):
        if status == "SUCCEEDED" and child is not None:
            text = child.get("output", "null")
        elif child is not None and status != "PENDING":
            text = dumps({"Error": child.get("error", ""), "Cause": child.get("cause", "")})
        else:
            continue
        size += len(text.encode()) + 1
        if size > limit:
            raise StatesError(
                asl_errors.DATA_LIMIT_EXCEEDED,
                f"The state/task '{rec.get('stateName', '')}' returned a result with a size "
                "exceeding the maximum number of bytes service limit.",
            )
        out.append(json.loads(text))
    return out
