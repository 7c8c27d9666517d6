"""Result records and WriterConfig transformations (spec §2.7).

A NONE record carries the child's metadata with ``Input``/``Output`` as JSON *strings*;
its keys are in the alphabetical order AWS's exports show (``ExecutionArn``, ``Input``,
``InputDetails``, ``Name``, ``Output``, ...). Decisions on unverified points:

- FAILED / TIMED_OUT / ABORTED records add ``Error`` and ``Cause`` (when known) and have
  no ``Output``/``OutputDetails``; ``StopDate`` is left out while unknown.
- PENDING records (never started) hold only ``Input``, ``InputDetails`` and ``Status``:
  there is no execution, so no ARN, name or dates to report.
- Transformations apply to SUCCEEDED records only; every other record is written as
  its NONE record (AWS: failed children are returned unchanged).
- ``transform_results`` (WriterConfig without export) returns a list for
  ``OutputType: JSON`` and a JSON Lines string (one value per line, ``\\n``-terminated)
  for ``JSONL``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from orchestrator.jsontext import dumps

SUCCEEDED = "SUCCEEDED"
PENDING = "PENDING"
FAILED = "FAILED"
#: Child statuses and the result-file category they are written to.
CATEGORY: dict[str, str] = {
    SUCCEEDED: SUCCEEDED,
    FAILED: FAILED,
    "TIMED_OUT": FAILED,
    "ABORTED": FAILED,
    PENDING: PENDING,
}
TRANSFORMATIONS = ("NONE", "COMPACT", "FLATTEN")
OUTPUT_TYPES = ("JSON", "JSONL")


def iso_millis(moment: datetime) -> str:
    """``2025-02-04T01:49:50.099Z``: UTC, millisecond precision (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def result_record(
    *,
    execution_arn: str,
    name: str,
    state_machine_arn: str,
    status: str,
    input: str,
    output: str | None,
    error: str | None,
    cause: str | None,
    start_date: datetime,
    stop_date: datetime | None,
    redrive_count: int = 0,
    redrive_status: str,
    redrive_status_reason: str,
) -> dict[str, Any]:
    """Build the NONE-transformation result record of one child execution.

    Args:
        execution_arn: the child's execution ARN.
        name: the child's execution name.
        state_machine_arn: the labelled state machine ARN.
        status: SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING.
        input: the child input as a JSON string.
        output: the child output as a JSON string (SUCCEEDED only).
        error: error name of a failed child.
        cause: cause of a failed child.
        start_date: when the child started.
        stop_date: when it stopped, if it did.
        redrive_count: how often the child was redriven.
        redrive_status: ``REDRIVABLE``, ``NOT_REDRIVABLE`` ...
        redrive_status_reason: the reason text AWS pairs with it.

    Returns:
        The record with keys in alphabetical order (PENDING: Input/InputDetails/Status).
    """
    if status == PENDING:
        return {"Input": input, "InputDetails": {"Included": True}, "Status": PENDING}
    record: dict[str, Any] = {
        "ExecutionArn": execution_arn,
        "Input": input,
        "InputDetails": {"Included": True},
        "Name": name,
        "RedriveCount": redrive_count,
        "RedriveStatus": redrive_status,
        "RedriveStatusReason": redrive_status_reason,
        "StartDate": iso_millis(start_date),
        "StateMachineArn": state_machine_arn,
        "Status": status,
    }
    if status == SUCCEEDED and output is not None:
        record["Output"] = output
        record["OutputDetails"] = {"Included": True}
    if status != SUCCEEDED:
        if error is not None:
            record["Error"] = error
        if cause is not None:
            record["Cause"] = cause
    if stop_date is not None:
        record["StopDate"] = iso_millis(stop_date)
    return dict(sorted(record.items()))


def writer_options(writer_config: Mapping[str, Any] | None) -> tuple[str, str]:
    """``(Transformation, OutputType)`` with the export defaults NONE / JSON.

    Raises:
        ValueError: for a value outside the allowed enums.
    """
    config = writer_config or {}
    transformation = config.get("Transformation") or "NONE"
    output_type = config.get("OutputType") or "JSON"
    if transformation not in TRANSFORMATIONS:
        raise ValueError(
            f"Unsupported WriterConfig Transformation {transformation!r}; "
            f"expected one of {', '.join(TRANSFORMATIONS)}."
        )
    if output_type not in OUTPUT_TYPES:
        raise ValueError(
            f"Unsupported WriterConfig OutputType {output_type!r}; expected JSON or JSONL."
        )
    return transformation, output_type


def transformed(status: str, record: Mapping[str, Any], transformation: str) -> Iterator[Any]:
    """The entries one record contributes to its file or result under ``transformation``."""
    if status != SUCCEEDED or transformation == "NONE":
        yield record
        return
    raw = record.get("Output")
    value = json.loads(raw) if isinstance(raw, str) else raw
    if transformation == "FLATTEN" and isinstance(value, list):
        yield from value
    else:
        yield value


def transform_results(
    records: Iterable[tuple[str, dict[str, Any]]], writer_config: Mapping[str, Any]
) -> Any:
    """Format child results as the state result (``ResultWriter`` with WriterConfig only).

    Args:
        records: ``(status, NONE record)`` pairs in child order.
        writer_config: ``{"Transformation": ..., "OutputType": ...}``.

    Returns:
        A list (``OutputType: JSON``) or a JSON Lines string (``JSONL``).

    Raises:
        ValueError: for an unsupported Transformation or OutputType.
    """
    transformation, output_type = writer_options(writer_config)
    values = [v for status, record in records for v in transformed(status, record, transformation)]
    if output_type == "JSON":
        return values
    return "".join(dumps(v) + "\n" for v in values)



