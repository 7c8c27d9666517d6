"""Record -> AWS response shape conversions (DescribeExecution, list items, history events)."""

from __future__ import annotations

from typing import Any

from orchestrator.statuses import ExecutionStatus

MACHINE_TYPE_FIELD = "stateMachineType"  # internal field of execution records, never returned
_DATA_FIELDS = ("input", "inputDetails", "output", "outputDetails")
#: The version and alias an execution was started through (AWS fields).
_VERSION_FIELDS = ("stateMachineVersionArn", "stateMachineAliasArn")


def redrive_status(record: dict[str, Any]) -> tuple[str, str | None]:
    """(redriveStatus, redriveStatusReason) of a parent execution (spec 3.5 wording)."""
    status = record.get("status")
    if status in (ExecutionStatus.RUNNING, ExecutionStatus.SUCCEEDED):
        return "NOT_REDRIVABLE", f"Execution is {status} and cannot be redriven"
    return "REDRIVABLE", None


def describe_execution(record: dict[str, Any], include_data: bool = True) -> dict[str, Any]:
    """DescribeExecutionOutput of a parent execution record.

    ``output`` is shown only for SUCCEEDED executions, ``error``/``cause`` when present; the
    redrive fields only for STANDARD executions (AWS has no redrive for EXPRESS).
    """
    out: dict[str, Any] = {
        "executionArn": record["executionArn"],
        "stateMachineArn": record["stateMachineArn"],
        "name": record["name"],
        "status": record["status"],
        "startDate": record["startDate"],
    }
    if "stopDate" in record:
        out["stopDate"] = record["stopDate"]
    if include_data:
        out["input"] = record.get("input", "{}")
        out["inputDetails"] = {"included": True}
        if record["status"] == ExecutionStatus.SUCCEEDED and "output" in record:
            out["output"] = record["output"]
            out["outputDetails"] = {"included": True}
    for field in ("error", "cause", "traceHeader", *_VERSION_FIELDS):
        if field in record:
            out[field] = record[field]
    if record.get(MACHINE_TYPE_FIELD, "STANDARD") == "STANDARD":
        out["redriveCount"] = int(record.get("redriveCount", 0))
        if "redriveDate" in record:
            out["redriveDate"] = record["redriveDate"]
        status, reason = redrive_status(record)
        out["redriveStatus"] = status
        if reason:
            out["redriveStatusReason"] = reason
    return out


def execution_list_item(record: dict[str, Any]) -> dict[str, Any]:
    """ExecutionListItem of a parent execution.

    Decision (unverified): ``redriveCount``/``redriveDate`` appear only once the execution
    has been redriven.
    """
    item: dict[str, Any] = {
        "executionArn": record["executionArn"],
        "stateMachineArn": record["stateMachineArn"],
        "name": record["name"],
        "status": record["status"],
        "startDate": record["startDate"],
    }
    if "stopDate" in record:
        item["stopDate"] = record["stopDate"]
    for field in _VERSION_FIELDS:
        if field in record:
            item[field] = record[field]
    if int(record.get("redriveCount", 0)) > 0:
        item["redriveCount"] = int(record["redriveCount"])
        if "redriveDate" in record:
            item["redriveDate"] = record["redriveDate"]
    return item


def strip_execution_data(event: dict[str, Any]) -> dict[str, Any]:
    """A history event without input/output (``includeExecutionData=false``)."""
    stripped = dict(event)
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            stripped[key] = {k: v for k, v in value.items() if k not in _DATA_FIELDS}
    return stripped


def state_machine_description(record: dict[str, Any]) -> dict[str, Any]:
    """DescribeStateMachineOutput of a state machine record."""
    return {
        "stateMachineArn": record["stateMachineArn"],
        "name": record["name"],
        "status": record.get("status", "ACTIVE"),
        "definition": record["definition"],
        "roleArn": record["roleArn"],
        "type": record["type"],
        "creationDate": record["creationDate"],
        "loggingConfiguration": record.get(
            "loggingConfiguration", {"level": "OFF", "includeExecutionData": False}
        ),
        "tracingConfiguration": record.get("tracingConfiguration", {"enabled": False}),
    }
