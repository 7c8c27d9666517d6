"""DescribeMapRun, ListMapRuns, UpdateMapRun and the Map Run's children, in AWS's shapes.

Implements the ``MapRunApi`` protocol the service layer delegates to. Counters come straight
from the Map Run's Redis counters, so ``itemCounts`` and ``executionCounts`` always add up.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import redis

from orchestrator import messages
from orchestrator.executions.errors import (
    ExecutionDoesNotExist,
    InvalidArn,
    InvalidToken,
    ResourceNotFound,
    ValidationException,
)
from orchestrator.maprun.records import MapRunStore
from orchestrator.settings import Settings
from orchestrator.store.keys import Keys

_STATUS_FOR_API = {"CLOSING": "RUNNING"}


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["o"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidToken(f"Invalid Token: '{token}'") from exc


def _page_size(max_results: int | None) -> int:
    if max_results is None or max_results == 0:
        return 100
    if not 0 < max_results <= 1000:
        raise ValidationException(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy "
            "constraint: Member must have value less than or equal to 1000"
        )
    return max_results


def _float(value: str | None) -> float | None:
    if value in (None, "", "null"):
        return None
    return float(value)  # type: ignore[arg-type]


class MapRunApi:
    """The Map Run part of the service layer."""

    def __init__(self, client: redis.Redis, settings: Settings,
                 send_task: Callable[..., Any] | None = None) -> None:
        self.settings = settings
        self.keys = Keys(settings.redis.key_prefix)
        self.store = MapRunStore(client, self.keys)
        self.redis = client
        self.send_task = send_task

    # -- helpers ------------------------------------------------------------------------
    def _record(self, arn: str) -> dict[str, str]:
        if not isinstance(arn, str) or ":mapRun:" not in arn:
            raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {arn}'")
        rec = self.store.get(arn)
        if rec is None:
            raise ResourceNotFound(f"Map Run Does Not Exist: '{arn}'")
        return rec

    def _send(self, name: str, *args: Any) -> None:
        if self.send_task is not None:
            self.send_task(name, args=list(args), queue=self.settings.celery.control_queue)

    # -- operations ---------------------------------------------------------------------
    def describe_map_run(self, map_run_arn: str) -> dict[str, Any]:
        rec = self._record(map_run_arn)
        items, execs = self.store.counters(map_run_arn)
        out: dict[str, Any] = {
            "mapRunArn": map_run_arn,
            "executionArn": rec["executionArn"],
            "status": _STATUS_FOR_API.get(rec["status"], rec["status"]),
            "startDate": float(rec["startDate"]),
            "maxConcurrency": int(rec.get("maxConcurrency", "0")),
            "toleratedFailurePercentage": _float(rec.get("toleratedFailurePercentage")) or 0.0,
            "toleratedFailureCount": int(_float(rec.get("toleratedFailureCount")) or 0),
            "itemCounts": items.to_api(),
            "executionCounts": execs.to_api(),
            "redriveCount": int(rec.get("redriveCount", "0")),
        }
        if rec.get("stopDate") and rec["status"] not in ("RUNNING", "CLOSING"):
            out["stopDate"] = float(rec["stopDate"])
        if rec.get("redriveDate"):
            out["redriveDate"] = float(rec["redriveDate"])
        return out

    def list_map_runs(self, execution_arn: str, max_results: int | None = None,
                      next_token: str | None = None) -> dict[str, Any]:
        size, offset = _page_size(max_results), _offset(next_token)
        arns = self.store.list_for_execution(execution_arn)
        page = arns[offset:offset + size]
        runs = []
        for arn in page:
            rec = self.store.get(arn) or {}
            item: dict[str, Any] = {"executionArn": execution_arn, "mapRunArn": arn,
                                    "stateMachineArn": rec.get("labelledArn", ""),
                                    "startDate": float(rec.get("startDate", "0"))}
            if rec.get("stopDate") and rec.get("status") not in ("RUNNING", "CLOSING"):
                item["stopDate"] = float(rec["stopDate"])
            runs.append(item)
        out: dict[str, Any] = {"mapRuns": runs}
        if offset + size < len(arns):
            out["nextToken"] = _token(offset + size)
        return out

    def update_map_run(self, map_run_arn: str, max_concurrency: int | None = None,
                       tolerated_failure_percentage: float | None = None,
                       tolerated_failure_count: int | None = None) -> None:
        rec = self._record(map_run_arn)
        if rec["status"] not in ("RUNNING",):
            raise ValidationException("Cannot update a completed Map Run", reason="CANNOT_UPDATE_COMPLETED_MAP_RUN")
        fields: dict[str, str] = {}
        if max_concurrency is not None:
            if max_concurrency < 0:
                raise ValidationException("maxConcurrency must be greater than or equal to 0")
            limit = max_concurrency or self.settings.limits.max_concurrency_ceiling
            fields.update(maxConcurrency=str(max_concurrency), limit=str(limit))
        if tolerated_failure_percentage is not None:
            if not 0 <= tolerated_failure_percentage <= 100:
                raise ValidationException("toleratedFailurePercentage must be between 0 and 100")
            fields["toleratedFailurePercentage"] = json.dumps(float(tolerated_failure_percentage))
        if tolerated_failure_count is not None:
            if tolerated_failure_count < 0:
                raise ValidationException("toleratedFailureCount must be greater than or equal to 0")
            fields["toleratedFailureCount"] = json.dumps(int(tolerated_failure_count))
        if fields:
            self.redis.hset(self.keys.map_run(map_run_arn), mapping=fields)
            # The next dispatch reads the new limit; thresholds are re-checked at once.
            self._send(messages.MAP_RUN_FEED, map_run_arn)

    def abort_for_execution(self, execution_arn: str) -> None:
        """Ask the control plane to abort the execution's running Map Runs."""
        self._send(messages.STOP_EXECUTION, execution_arn)

    # -- children -----------------------------------------------------------------------
    def _child_item(self, rec: dict[str, str], index: int, status: str,
                    record: dict[str, Any] | None) -> dict[str, Any]:
        from orchestrator.maprun.context import child_name

        name = record["name"] if record else child_name(rec["mapRunId"], index)
        item: dict[str, Any] = {
            "executionArn": rec["executionPrefix"] + name,
            "stateMachineArn": rec["labelledArn"],
            "name": name,
            "status": status,
            "startDate": float(record["start"]) if record else float(rec["startDate"]),
            "mapRunArn": rec["arn"],
            "itemCount": int(self.redis.hget(self.keys.map_run_inputs(rec["arn"]), f"w:{index}") or 1),
            "redriveCount": int(record.get("redriveCount", 0) if record
                                else rec.get("redriveCount", "0")),
        }
        if record and status != "RUNNING":
            item["stopDate"] = float(record["stop"])
        return item

    def list_children(self, map_run_arn: str, status_filter: str | None = None,
                      redrive_filter: str | None = None, max_results: int | None = None,
                      next_token: str | None = None) -> dict[str, Any]:
        rec = self._record(map_run_arn)
        size, offset = _page_size(max_results), _offset(next_token)
        state = json.loads(rec.get("feedState") or "null") or {"next": 0}
        running = set(self.store.running_indexes(map_run_arn))
        out: list[dict[str, Any]] = []
        seen = 0
        index = int(state["next"]) - 1
        chunk = 500
        while index >= 0 and len(out) < size:
            fields = [str(i) for i in range(index, max(-1, index - chunk), -1)]
            statuses = self.redis.hmget(self.keys.map_run_status(map_run_arn), fields)
            records = self.redis.hmget(self.keys.map_run_children(map_run_arn), fields)
            for f, st, raw in zip(fields, statuses, records, strict=True):
                i = int(f)
                status = st.decode() if st else ("RUNNING" if i in running else None)
                if status is None or (status_filter and status != status_filter):
                    continue
                if redrive_filter == "REDRIVEN" and int(rec.get("redriveCount", "0")) == 0:
                    continue
                seen += 1
                if seen <= offset:
                    continue
                out.append(self._child_item(rec, i, status, json.loads(raw) if raw else None))
                if len(out) >= size:
                    break
            index -= chunk
        result: dict[str, Any] = {"executions": out}
        if len(out) >= size:
            result["nextToken"] = _token(offset + size)
        return result

    def _locate(self, execution_arn: str) -> tuple[dict[str, str], int] | None:
        name = execution_arn.rsplit(":", 1)[-1]
        located = self.store.child_location(name)
        if located is None:
            return None
        rec = self.store.get(located[0])
        if rec is None or rec["executionPrefix"] + name != execution_arn:
            return None
        return rec, located[1]

    def describe_child(self, execution_arn: str) -> dict[str, Any] | None:
        located = self._locate(execution_arn)
        if located is None:
            return None
        rec, index = located
        status = self.store.child_status(rec["arn"], index)
        if status is None:
            if index not in set(self.store.running_indexes(rec["arn"])):
                return None  # never started: not an execution yet
            status = "RUNNING"
        record = self.store.child_record(rec["arn"], index)
        item = self._child_item(rec, index, status, record)
        item.pop("itemCount", None)
        child_input = self.store.child_input(rec["arn"], index) or "null"
        item.update(input=child_input, inputDetails={"included": True})
        if record and record.get("output") is not None:
            item.update(output=record["output"], outputDetails={"included": True})
        if record and record.get("error") is not None:
            item.update(error=record["error"], cause=record.get("cause", ""))
        if status == "SUCCEEDED":
            item.update(redriveStatus="NOT_REDRIVABLE",
                        redriveStatusReason="Execution is SUCCEEDED and cannot be redriven")
        elif status == "RUNNING":
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
        raw = self.redis.lrange(self.keys.history(execution_arn), 0, -1)
        events = [json.loads(e) for e in raw]
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
