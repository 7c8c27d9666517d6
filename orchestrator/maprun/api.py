"""DescribeMapRun, ListMapRuns, UpdateMapRun and the Map Run's children, in AWS's shapes.

Implements the ``MapRunApi`` protocol the service layer delegates to, reading through the
:class:`~orchestrator.store.maprun_base.MapRunStore`. Counters come straight from the store's
counters, so ``itemCounts`` and ``executionCounts`` always add up.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any


from orchestrator import messages
from orchestrator.executions.arns import parse_execution_arn
from orchestrator.executions.errors import (
    ExecutionDoesNotExist,
    InvalidArn,
    InvalidToken,
    ResourceNotFound,
    ValidationException,
)
from orchestrator.maprun.control_api import MapRunControlMixin, extension_fields
from orchestrator.maprun.deps import child_name
from orchestrator.maprun.limits_api import map_run_limits
from orchestrator.settings import Settings
from orchestrator.statuses import ChildStatus, ExecutionStatus, MapRunStatus
from orchestrator.store.maprun_base import ChildRecord, MapRunStore
from orchestrator.store.maprun_record import MapRun

RUNNING = ExecutionStatus.RUNNING.value


#: Largest position a page token may hold (a Map Run has at most 100,000,000 items).
_MAX_OFFSET = 100_000_000


def _token(offset: int) -> str:
    """The position after a page. Clients never see it: the service keeps it inside one of its
    stored tokens (``orchestrator.executions.pagination``), tied to the operation and resource."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _offset(token: str | None) -> int:
    """The position in ``token``: an integer 0.._MAX_OFFSET, else :class:`InvalidToken`."""
    if not token:
        return 0
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))["o"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidToken(f"Invalid Token: '{token[:100]}'") from exc
    if type(value) is not int or not 0 <= value <= _MAX_OFFSET:
        raise InvalidToken(
            f"Invalid Token: '{token[:100]}' (its offset must be an integer from 0 to "
            f"{_MAX_OFFSET})"
        )
    return value


def _page_size(max_results: int | None) -> int:
    if max_results is None or max_results == 0:
        return 100
    if not 0 < max_results <= 1000:
        raise ValidationException(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy "
            "constraint: Member must have value less than or equal to 1000"
        )
    return max_results


class MapRunApi(MapRunControlMixin):
    """The Map Run part of the service layer (pause, resume, admission: the mixin).

    Args:
        store: the Map Run store (:func:`orchestrator.store.connect.open_stores` builds the
            Redis one).
        settings: the process settings.
        send_task: Celery's ``send_task`` (UpdateMapRun, aborts, resume and admission changes
            notify the control plane).
        clock: epoch seconds (paused time, admission dates).
    """

    def __init__(self, store: MapRunStore, settings: Settings,
                 send_task: Callable[..., Any] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.store = store
        self.send_task = send_task
        self.clock = clock

    # -- operator reads (console, metrics) ----------------------------------------------
    def open_map_run_arns(self) -> list[str]:
        """ARNs of the Map Runs that have not finished, oldest first."""
        return self.store.open_runs()

    def child_index(self, child_name: str) -> int | None:
        """The index of a child execution inside its Map Run; None for an unknown name."""
        located = self.store.child_location(child_name)
        return located[1] if located is not None else None

    # -- helpers ------------------------------------------------------------------------
    def _record(self, arn: str) -> MapRun:
        if not isinstance(arn, str) or ":mapRun:" not in arn:
            raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {arn}'")
        run = self.store.get(arn)
        if run is None:
            raise ResourceNotFound(f"Map Run Does Not Exist: '{arn}'")
        return run

    def _send(self, name: str, *args: Any) -> None:
        if self.send_task is not None:
            self.send_task(name, args=list(args), queue=self.settings.celery.control_queue)

    # -- operations ---------------------------------------------------------------------
    def describe_map_run(self, map_run_arn: str) -> dict[str, Any]:
        run = self._record(map_run_arn)
        items, execs = self.store.counters(map_run_arn)
        out: dict[str, Any] = {
            "mapRunArn": map_run_arn,
            "executionArn": run.execution_arn,
            "status": run.status.for_api,
            "startDate": run.start_date,
            "maxConcurrency": run.max_concurrency,
            "toleratedFailurePercentage": run.tolerated_failure_percentage or 0.0,
            "toleratedFailureCount": run.tolerated_failure_count or 0,
            "itemCounts": items.to_api(),
            "executionCounts": execs.to_api(),
            "redriveCount": run.redrive_count,
        }
        if run.stop_date and not run.status.is_open:
            out["stopDate"] = run.stop_date
        if run.redrive_date:
            out["redriveDate"] = run.redrive_date
        # stepmap extensions: one member AWS SDKs do not know and skip: pause and admission
        # (docs/extensions.md), rates and pools (docs/limits.md).
        out["stepmap"] = {**extension_fields(self.store, run, self.clock()),
                          **map_run_limits(run)}
        return out

    def list_map_runs(self, execution_arn: str, max_results: int | None = None,
                      next_token: str | None = None) -> dict[str, Any]:
        size, offset = _page_size(max_results), _offset(next_token)
        arns = self.store.list_for_execution(execution_arn)
        page = arns[offset:offset + size]
        runs = []
        for arn in page:
            run = self.store.get(arn)
            item: dict[str, Any] = {"executionArn": execution_arn, "mapRunArn": arn,
                                    "stateMachineArn": run.labelled_arn if run else "",
                                    "startDate": run.start_date if run else 0.0}
            if run is not None and run.stop_date and not run.status.is_open:
                item["stopDate"] = run.stop_date
            runs.append(item)
        out: dict[str, Any] = {"mapRuns": runs}
        if offset + size < len(arns):
            out["nextToken"] = _token(offset + size)
        return out

    def update_map_run(self, map_run_arn: str, max_concurrency: int | None = None,
                       tolerated_failure_percentage: float | None = None,
                       tolerated_failure_count: int | None = None) -> None:
        run = self._record(map_run_arn)
        # A queued (admission) run may be updated too: its new limit applies once admitted.
        if run.status not in (MapRunStatus.RUNNING, MapRunStatus.QUEUED):
            raise ValidationException("Cannot update a completed Map Run", reason="CANNOT_UPDATE_COMPLETED_MAP_RUN")
        limit: int | None = None
        if max_concurrency is not None:
            if max_concurrency < 0:
                raise ValidationException("maxConcurrency must be greater than or equal to 0")
            limit = max_concurrency or self.settings.limits.max_concurrency_ceiling
        if tolerated_failure_percentage is not None:
            if not 0 <= tolerated_failure_percentage <= 100:
                raise ValidationException("toleratedFailurePercentage must be between 0 and 100")
        if tolerated_failure_count is not None:
            if tolerated_failure_count < 0:
                raise ValidationException("toleratedFailureCount must be greater than or equal to 0")
        if (max_concurrency, tolerated_failure_percentage, tolerated_failure_count) != (None,) * 3:
            self.store.update_limits(
                map_run_arn, max_concurrency=max_concurrency, limit=limit,
                tolerated_failure_count=tolerated_failure_count,
                tolerated_failure_percentage=(float(tolerated_failure_percentage)
                                              if tolerated_failure_percentage is not None
                                              else None))
            # The next dispatch reads the new limit; thresholds are re-checked at once.
            self._send(messages.MAP_RUN_FEED, map_run_arn)

    def abort_for_execution(self, execution_arn: str) -> None:
        """Ask the control plane to abort the execution's running Map Runs."""
        self._send(messages.STOP_EXECUTION, execution_arn)

    # -- children -----------------------------------------------------------------------
    def _child_item(self, run: MapRun, index: int, status: str,
                    record: ChildRecord | None) -> dict[str, Any]:
        name = record.name if record else child_name(run.map_run_id, index)
        item: dict[str, Any] = {
            "executionArn": run.execution_prefix + name,
            "stateMachineArn": run.labelled_arn,
            "name": name,
            "status": status,
            "startDate": record.start if record else run.start_date,
            "mapRunArn": run.arn,
            "itemCount": self.store.child_weights(run.arn, [index])[0],
            "redriveCount": record.redrive_count if record else run.redrive_count,
        }
        if record and status != RUNNING:
            item["stopDate"] = record.stop
        return item

    def list_children(self, map_run_arn: str, status_filter: str | None = None,
                      redrive_filter: str | None = None, max_results: int | None = None,
                      next_token: str | None = None) -> dict[str, Any]:
        run = self._record(map_run_arn)
        size, offset = _page_size(max_results), _offset(next_token)
        running = set(self.store.running_indexes(map_run_arn))
        out: list[dict[str, Any]] = []
        seen = 0
        index = run.feed.next - 1
        chunk = 500
        while index >= 0 and len(out) < size:
            indexes = list(range(index, max(-1, index - chunk), -1))
            statuses = self.store.child_statuses(map_run_arn, indexes)
            records = self.store.child_records(map_run_arn, indexes)
            for i, st, record in zip(indexes, statuses, records, strict=True):
                status = st.value if st else (RUNNING if i in running else None)
                if status is None or (status_filter and status != status_filter):
                    continue
                if redrive_filter == "REDRIVEN" and run.redrive_count == 0:
                    continue
                seen += 1
                if seen <= offset:
                    continue
                out.append(self._child_item(run, i, status, record))
                if len(out) >= size:
                    break
            index -= chunk
        result: dict[str, Any] = {"executions": out}
        if len(out) >= size:
            result["nextToken"] = _token(offset + size)
        return result

    def _locate(self, execution_arn: str) -> tuple[MapRun, int] | None:
        try:
            name = parse_execution_arn(execution_arn).name
        except InvalidArn:
            return None
        located = self.store.child_location(name)
        if located is None:
            return None
        run = self.store.get(located[0])
        if run is None or run.execution_prefix + name != execution_arn:
            return None
        return run, located[1]

    def describe_child(self, execution_arn: str) -> dict[str, Any] | None:
        located = self._locate(execution_arn)
        if located is None:
            return None
        run, index = located
        ended = self.store.child_statuses(run.arn, [index])[0]
        if ended is None:
            if index not in set(self.store.running_indexes(run.arn)):
                return None  # never started: not an execution yet
            status = RUNNING
        else:
            status = ended.value
        record = self.store.child_records(run.arn, [index])[0]
        item = self._child_item(run, index, status, record)
        item.pop("itemCount", None)
        from orchestrator.readers.ranges import is_range

        child_input = self.store.child_inputs(run.arn, [index])[0]
        # A range child's input is its text once it started; one that never ran shows null.
        child_input = "null" if child_input is None or is_range(child_input) else child_input
        item.update(input=child_input, inputDetails={"included": True})
        if record and record.output is not None:
            item.update(output=record.output, outputDetails={"included": True})
        if record and record.error is not None:
            item.update(error=record.error, cause=record.cause or "")
        if status == ChildStatus.SUCCEEDED:
            item.update(redriveStatus="NOT_REDRIVABLE",
                        redriveStatusReason="Execution is SUCCEEDED and cannot be redriven")
        elif status == RUNNING:
            item.update(redriveStatus="NOT_REDRIVABLE",
                        redriveStatusReason="Execution is RUNNING and cannot be redriven")
        else:
            item.update(redriveStatus="REDRIVABLE_BY_MAP_RUN")
        return item

    def child_history(self, execution_arn: str, max_results: int | None = None,
                      reverse_order: bool = False, next_token: str | None = None,
                      include_execution_data: bool = True) -> dict[str, Any] | None:
        """History of a STANDARD child (EXPRESS children keep none: an empty list)."""
        if self._locate(execution_arn) is None:
            return None
        size, offset = _page_size(max_results), _offset(next_token)
        events = self.store.child_history(execution_arn)
        if reverse_order:
            events.reverse()
        page = events[offset:offset + size]
        if not include_execution_data:
            for event in page:
                for key, details in event.items():
                    if key.endswith("EventDetails") and isinstance(details, dict):
                        for field in ("input", "output"):
                            details.pop(field, None)
        out: dict[str, Any] = {"events": page}
        if offset + size < len(events):
            out["nextToken"] = _token(offset + size)
        return out


__all__ = ["ExecutionDoesNotExist", "MapRunApi"]
