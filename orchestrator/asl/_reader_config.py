"""ItemReader.ReaderConfig between its ASL (PascalCase) shape and the typed model.

The definition parser builds :class:`~orchestrator.asl.model.ReaderConfig` here once, after the
validator accepted the definition (so the values are known to be valid). The same function
reads an ItemReader request stored before the model was typed, and :func:`reader_config_asl`
renders the model back in its ASL shape (to compare with AWS's documented requests).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

from orchestrator.asl.errors import ItemReaderFailed
from orchestrator.asl.model.map import (
    CsvDelimiter,
    CsvHeaderLocation,
    InputType,
    ManifestType,
    ReaderConfig,
    ReaderTransformation,
)

_E = TypeVar("_E", bound=Enum)


def _choice(raw: Mapping[str, Any], name: str, kind: type[_E]) -> _E | None:
    value = raw.get(name)
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(str(member.value) for member in kind)
        raise ItemReaderFailed(
            f"Unsupported ReaderConfig {name} {value!r}; expected one of {choices}."
        ) from None


def reader_config_of(raw: Mapping[str, Any] | None) -> ReaderConfig:
    """The typed ReaderConfig of an ASL ``ReaderConfig`` object.

    ``MaxItems`` is taken when it is a literal (an expression or ``MaxItemsPath`` is resolved
    at run time); it is kept as given, the reader checks it when it starts.

    Raises:
        ItemReaderFailed: an enumerated field holds a value the States Language does not have
            (only reachable for configurations that skipped the definition validator).
    """
    raw = raw or {}
    headers = raw.get("CSVHeaders")
    max_items = raw.get("MaxItems")
    pointer = raw.get("ItemsPointer")
    return ReaderConfig(
        input_type=_choice(raw, "InputType", InputType),
        transformation=(_choice(raw, "Transformation", ReaderTransformation)
                        or ReaderTransformation.NONE),
        manifest_type=_choice(raw, "ManifestType", ManifestType),
        csv_header_location=(_choice(raw, "CSVHeaderLocation", CsvHeaderLocation)
                             or CsvHeaderLocation.FIRST_ROW),
        csv_headers=tuple(str(h) for h in headers) if isinstance(headers, list) else None,
        csv_delimiter=_choice(raw, "CSVDelimiter", CsvDelimiter) or CsvDelimiter.COMMA,
        items_pointer=pointer if isinstance(pointer, str) else None,
        max_items=None if isinstance(max_items, str) and max_items.startswith("{%")
        else max_items,
    )


def reader_config_asl(config: ReaderConfig) -> dict[str, Any]:
    """The ASL ``ReaderConfig`` object of a typed one (fields at their default omitted)."""
    raw: dict[str, Any] = {}
    if config.input_type is not None:
        raw["InputType"] = config.input_type.value
    if config.transformation is not ReaderTransformation.NONE:
        raw["Transformation"] = config.transformation.value
    if config.manifest_type is not None:
        raw["ManifestType"] = config.manifest_type.value
    if config.csv_header_location is not CsvHeaderLocation.FIRST_ROW:
        raw["CSVHeaderLocation"] = config.csv_header_location.value
    if config.csv_headers is not None:
        raw["CSVHeaders"] = list(config.csv_headers)
    if config.csv_delimiter is not CsvDelimiter.COMMA:
        raw["CSVDelimiter"] = config.csv_delimiter.value
    if config.items_pointer is not None:
        raw["ItemsPointer"] = config.items_pointer
    if config.max_items is not None:
        raw["MaxItems"] = config.max_items
    return raw


def reader_config_from_dict(data: Mapping[str, Any]) -> ReaderConfig:
    """Inverse of ``dataclasses.asdict`` on a :class:`ReaderConfig` (a stored request)."""
    headers = data.get("csv_headers")
    return ReaderConfig(
        input_type=InputType(data["input_type"]) if data.get("input_type") else None,
        transformation=ReaderTransformation(data.get("transformation") or "NONE"),
        manifest_type=(ManifestType(data["manifest_type"]) if data.get("manifest_type")
                       else None),
        csv_header_location=CsvHeaderLocation(data.get("csv_header_location") or "FIRST_ROW"),
        csv_headers=tuple(headers) if headers is not None else None,
        csv_delimiter=CsvDelimiter(data.get("csv_delimiter") or "COMMA"),
        items_pointer=data.get("items_pointer"),
        max_items=data.get("max_items"),
    )
