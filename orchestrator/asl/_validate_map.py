"""Validation of Map states, Inline and Distributed (spec 1.4, 2.1-2.7).

Decisions on points AWS does not document (unverified):

- ``ItemReader``, ``ItemBatcher``, ``ResultWriter`` and ``Label`` are rejected on an INLINE
  Map: they only describe a Map Run, which an Inline Map never creates. ``ToleratedFailure*``
  are accepted there and have no effect (observed on AWS).
- ``ProcessorConfig.ExecutionType`` on an INLINE Map is accepted and ignored.
- ``Parameters`` together with ``ItemSelector`` is rejected (the first is a legacy alias).
- ``ReaderConfig.CSVHeaderLocation`` is optional (the reader defaults to FIRST_ROW);
  ``CSVHeaders`` is required with GIVEN and rejected otherwise.
- ``ResultWriter``: ``Resource`` and ``Parameters``/``Arguments`` come together (spec 2.7
  combinations a-c); ``WriterConfig`` alone is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from orchestrator.asl._validate_fields import (
    DUPLICATE_LABEL,
    INVALID_LABEL,
    JSONATA,
    JSONPATH,
    REFERENCE,
    Checker,
    check_fields,
    check_path,
    check_payload,
    exclusive,
    expect_enum,
    expect_int,
    expect_object,
    is_jsonata,
    is_number,
    pointer,
    show,
)
from orchestrator.asl._validate_retry import Transition
from orchestrator.asl._validate_states import StateContext, check_retry_catch

#: Largest ItemBatcher.MaxInputBytesPerBatch (256 KiB).
MAX_BATCH_BYTES = 262_144
#: Largest ReaderConfig.MaxItems.
MAX_ITEMS = 100_000_000
_LABEL_FORBIDDEN = set('?*<>{}[]:;,\\|^~$#%&`"')
_DISTRIBUTED_ONLY = ("ItemReader", "ItemBatcher", "ResultWriter", "Label")
_PROCESSOR_FIELDS = frozenset({"StartAt", "States", "Comment", "ProcessorConfig"})
_READER_FIELDS = frozenset({"Resource", "Parameters", "Arguments", "ReaderConfig"})
_READER_RESOURCE = re.compile(r"arn:[a-z-]+:states:::s3:(getObject|listObjectsV2)")
_WRITER_RESOURCE = re.compile(r"arn:[a-z-]+:states:::s3:putObject")
_READER_CONFIG_FIELDS = frozenset({"InputType", "Transformation", "ManifestType",
                                   "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter",
                                   "ItemsPointer", "MaxItems", "MaxItemsPath"})
_BATCHER_FIELDS = frozenset({"MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch",
                             "MaxInputBytesPerBatchPath", "BatchInput"})
_WRITER_FIELDS = frozenset({"Resource", "Parameters", "Arguments", "WriterConfig"})


def check_map(chk: Checker, state: Mapping[str, Any], ctx: StateContext) -> list[Transition]:
    """Map: processor, mode rules, item source, selector, batching, thresholds, writer."""
    where, path = ctx.where, ctx.path
    jsonpath = ctx.language == JSONPATH
    distributed, child_type = _check_processor(chk, state, ctx)
    if not distributed:
        for key in _DISTRIBUTED_ONLY:
            if key in state:
                chk.schema(
                    pointer(path, key),
                    f"Field '{key}' {where} is only supported when "
                    "ItemProcessor.ProcessorConfig.Mode is DISTRIBUTED",
                )
    if jsonpath:
        check_path(chk, state, "ItemsPath", path, where, REFERENCE)
    elif "Items" in state:
        items = state["Items"]
        if not (isinstance(items, (list, Mapping)) or is_jsonata(items)):
            chk.schema(pointer(path, "Items"),
                       f"Field 'Items' {where} must be an array, an object or a JSONata "
                       f"expression, got {show(items)}")
    exclusive(chk, state, "ItemSelector", "Parameters", path, where)
    if jsonpath:
        check_payload(chk, state, "ItemSelector", path, where)
        check_payload(chk, state, "Parameters", path, where)
    _literal_or_path(chk, state, ctx, "MaxConcurrency", low=0)
    _literal_or_path(chk, state, ctx, "ToleratedFailureCount", low=0)
    _check_percentage(chk, state, ctx)
    if distributed:
        if "Label" in state:
            _check_label(chk, state["Label"], pointer(path, "Label"), where)
        if "ItemReader" in state:
            _check_reader(chk, state["ItemReader"], pointer(path, "ItemReader"), ctx)
        if "ItemBatcher" in state:
            _check_batcher(chk, state["ItemBatcher"], pointer(path, "ItemBatcher"), ctx)
        if "ResultWriter" in state:
            _check_writer(chk, state["ResultWriter"], pointer(path, "ResultWriter"), ctx)
    _check_processor_scope(chk, state, ctx, child_type)
    return check_retry_catch(chk, state, ctx)


def _processor_key(state: Mapping[str, Any]) -> str | None:
    if "ItemProcessor" in state:
        return "ItemProcessor"
    return "Iterator" if "Iterator" in state else None


def _check_processor(
    chk: Checker, state: Mapping[str, Any], ctx: StateContext
) -> tuple[bool, str]:
    """Checks ItemProcessor/Iterator and ProcessorConfig; returns (distributed, child type)."""
    where, path = ctx.where, ctx.path
    if "ItemProcessor" in state and "Iterator" in state:
        chk.schema(path, f"Fields 'ItemProcessor' and 'Iterator' {where} are mutually exclusive")
    key = _processor_key(state)
    if key is None:
        chk.schema(path, f"Missing required field 'ItemProcessor' {where}")
        return False, ctx.machine_type
    processor = state[key]
    here = pointer(path, key)
    if not isinstance(processor, Mapping) or "ProcessorConfig" not in processor:
        return False, ctx.machine_type
    config = processor["ProcessorConfig"]
    config_path = pointer(here, "ProcessorConfig")
    if not expect_object(chk, config, config_path, "ProcessorConfig", where):
        return False, ctx.machine_type
    check_fields(chk, config, config_path, frozenset({"Mode", "ExecutionType"}))
    mode = config.get("Mode", "INLINE")
    if "Mode" in config:
        expect_enum(chk, mode, pointer(config_path, "Mode"), "Mode", where,
                    ("INLINE", "DISTRIBUTED"))
    if "ExecutionType" in config:
        expect_enum(chk, config["ExecutionType"], pointer(config_path, "ExecutionType"),
                    "ExecutionType", where, ("STANDARD", "EXPRESS"))
    if mode != "DISTRIBUTED":
        return False, ctx.machine_type
    if ctx.machine_type != "STANDARD":
        chk.schema(
            pointer(config_path, "Mode"),
            f"Field 'Mode' {where} cannot be DISTRIBUTED in an {ctx.machine_type} workflow; "
            "Distributed Map requires a STANDARD state machine",
        )
    if "ExecutionType" not in config:
        chk.schema(config_path,
                   f"Missing required field 'ExecutionType' {where}: it is required when "
                   "Mode is DISTRIBUTED")
        return True, "STANDARD"
    child = config["ExecutionType"]
    return True, child if child in ("STANDARD", "EXPRESS") else "STANDARD"


def _check_processor_scope(
    chk: Checker, state: Mapping[str, Any], ctx: StateContext, child_type: str
) -> None:
    from orchestrator.asl._validate import validate_scope

    key = _processor_key(state)
    if key is None:
        return
    validate_scope(chk, state[key], pointer(ctx.path, key), child_type,
                   f"{key} {ctx.where}", _PROCESSOR_FIELDS)


def _literal_or_path(
    chk: Checker, state: Mapping[str, Any], ctx: StateContext, literal: str, *, low: int
) -> None:
    exclusive(chk, state, literal, literal + "Path", ctx.path, ctx.where)
    if literal in state:
        expect_int(chk, state[literal], pointer(ctx.path, literal), literal, ctx.where,
                   low=low, jsonata=ctx.language == JSONATA)
    if ctx.language == JSONPATH:
        check_path(chk, state, literal + "Path", ctx.path, ctx.where, REFERENCE)


def _check_percentage(chk: Checker, state: Mapping[str, Any], ctx: StateContext) -> None:
    key = "ToleratedFailurePercentage"
    exclusive(chk, state, key, key + "Path", ctx.path, ctx.where)
    if key in state:
        value = state[key]
        ok = (ctx.language == JSONATA and is_jsonata(value)) or (
            is_number(value) and 0 <= value <= 100)
        if not ok:
            chk.schema(pointer(ctx.path, key),
                       f"Field '{key}' {ctx.where} must be a number between 0 and 100, "
                       f"got {show(value)}")
    if ctx.language == JSONPATH:
        check_path(chk, state, key + "Path", ctx.path, ctx.where, REFERENCE)


def _check_label(chk: Checker, label: Any, path: str, where: str) -> None:
    """Label: 1-40 characters, none forbidden (spec 1.4), unique among Distributed Maps."""
    if not isinstance(label, str):
        chk.schema(path, f"Field 'Label' {where} must be a string, got {show(label)}")
        return
    if not 1 <= len(label) <= 40:
        chk.add(path, INVALID_LABEL,
                f"Field 'Label' {where} must be 1 to 40 characters long, got {show(label)} "
                f"({len(label)} characters)")
    bad = sorted({c for c in label if c in _LABEL_FORBIDDEN or c.isspace()
                  or ord(c) <= 0x1F or 0x7F <= ord(c) <= 0x9F})
    if bad:
        chk.add(path, INVALID_LABEL,
                f"Field 'Label' {where} contains forbidden characters {show(''.join(bad))}, "
                f"got {show(label)}")
    if label in chk.labels:
        chk.add(path, DUPLICATE_LABEL,
                f"Label {show(label)} {where} is already used by the Distributed Map at "
                f"{chk.labels[label]}")
    else:
        chk.labels[label] = path


def _check_args(
    chk: Checker, obj: Mapping[str, Any], path: str, ctx: StateContext, field_name: str
) -> None:
    """Parameters (JSONPath template) or Arguments (JSONata) of a reader or writer."""
    mine, other = ("Parameters", "Arguments") if ctx.language == JSONPATH else (
        "Arguments", "Parameters")
    if other in obj:
        chk.schema(
            path,
            f"The QueryLanguage is set to '{ctx.language}', but field '{other}' of "
            f"{field_name} is only supported for the "
            f"'{JSONATA if ctx.language == JSONPATH else JSONPATH}' QueryLanguage",
        )
    if mine in obj and expect_object(chk, obj[mine], pointer(path, mine), mine, ctx.where):
        if ctx.language == JSONPATH:
            check_payload(chk, obj, mine, path, ctx.where)


def _check_s3_args(
    chk: Checker, obj: Mapping[str, Any], path: str, ctx: StateContext, owner: str,
    required: tuple[str, ...], optional: tuple[str, ...],
) -> None:
    """Bucket/Key/Prefix... of a reader's or writer's Parameters/Arguments: present, strings.

    A JSONPath member may instead be given as ``<name>.$`` (a path, checked with the
    template); a JSONata member may be an expression (a string too). Arguments given as one
    JSONata expression are only known at run time.
    """
    key = "Parameters" if ctx.language == JSONPATH else "Arguments"
    args = obj.get(key)
    if not isinstance(args, Mapping):
        return
    here = pointer(path, key)
    for name in required + optional:
        if name in args:
            if not isinstance(args[name], str):
                chk.schema(pointer(here, name),
                           f"Field '{name}' of {owner} {key} {ctx.where} must be a string, "
                           f"got {show(args[name])}")
        elif name in required and name + ".$" not in args:
            chk.schema(here, f"Missing required field '{name}' in {owner} {key} {ctx.where}")


def _check_reader(chk: Checker, reader: Any, path: str, ctx: StateContext) -> None:
    where = ctx.where
    if not expect_object(chk, reader, path, "ItemReader", where):
        return
    check_fields(chk, reader, path, _READER_FIELDS)
    resource = reader.get("Resource")
    if "Resource" not in reader:
        chk.schema(path, f"Missing required field 'Resource' in ItemReader {where}")
    elif not isinstance(resource, str) or not _READER_RESOURCE.fullmatch(resource):
        chk.schema(pointer(path, "Resource"),
                   f"Field 'Resource' of ItemReader {where} must be "
                   "'arn:aws:states:::s3:getObject' or 'arn:aws:states:::s3:listObjectsV2', "
                   f"got {show(resource)}")
    _check_args(chk, reader, path, ctx, "ItemReader")
    listing = isinstance(resource, str) and resource.endswith(":listObjectsV2")
    _check_s3_args(chk, reader, path, ctx, "ItemReader",
                   ("Bucket",) if listing else ("Bucket", "Key"),
                   ("Prefix", "ExpectedBucketOwner") if listing
                   else ("VersionId", "ExpectedBucketOwner"))
    config = reader.get("ReaderConfig")
    config_path = pointer(path, "ReaderConfig")
    if "ReaderConfig" in reader and not expect_object(chk, config, config_path,
                                                      "ReaderConfig", where):
        return
    config = config or {}
    check_fields(chk, config, config_path, _READER_CONFIG_FIELDS)
    for key, choices in (
        ("InputType", ("CSV", "JSON", "JSONL", "PARQUET", "MANIFEST")),
        ("Transformation", ("NONE", "LOAD_AND_FLATTEN")),
        ("ManifestType", ("ATHENA_DATA", "S3_INVENTORY")),
        ("CSVHeaderLocation", ("FIRST_ROW", "GIVEN")),
        ("CSVDelimiter", ("COMMA", "PIPE", "SEMICOLON", "SPACE", "TAB")),
    ):
        if key in config:
            expect_enum(chk, config[key], pointer(config_path, key), key, where, choices)
    is_get = isinstance(resource, str) and resource.endswith(":getObject")
    if is_get and "InputType" not in config and "ManifestType" not in config:
        chk.schema(config_path if "ReaderConfig" in reader else path,
                   f"Missing required field 'InputType' in ReaderConfig {where}: it is "
                   "required with arn:aws:states:::s3:getObject")
    if config.get("ManifestType") == "S3_INVENTORY" and "InputType" in config:
        chk.schema(pointer(config_path, "InputType"),
                   f"Field 'InputType' {where} must be absent when ManifestType is "
                   f"S3_INVENTORY, got {show(config['InputType'])}")
    if config.get("Transformation") == "LOAD_AND_FLATTEN" and "InputType" not in config:
        chk.schema(config_path, f"Missing required field 'InputType' in ReaderConfig {where}: "
                   "it is required when Transformation is LOAD_AND_FLATTEN")
    headers_given = config.get("CSVHeaderLocation") == "GIVEN"
    if "CSVHeaders" in config:
        headers = config["CSVHeaders"]
        if not headers_given:
            chk.schema(pointer(config_path, "CSVHeaders"),
                       f"Field 'CSVHeaders' {where} is only allowed when CSVHeaderLocation "
                       "is GIVEN")
        elif (not isinstance(headers, list) or not headers
              or not all(isinstance(h, str) for h in headers)):
            chk.schema(pointer(config_path, "CSVHeaders"),
                       f"Field 'CSVHeaders' {where} must be a non-empty array of strings, "
                       f"got {show(headers)}")
    elif headers_given:
        chk.schema(config_path, f"Missing required field 'CSVHeaders' in ReaderConfig {where}: "
                   "it is required when CSVHeaderLocation is GIVEN")
    if "ItemsPointer" in config:
        items_pointer = config["ItemsPointer"]
        if not isinstance(items_pointer, str) or (items_pointer and items_pointer[0] != "/"):
            chk.schema(pointer(config_path, "ItemsPointer"),
                       f"Field 'ItemsPointer' {where} must be a JSON Pointer such as '/a/b', "
                       f"got {show(items_pointer)}")
    exclusive(chk, config, "MaxItems", "MaxItemsPath", config_path, where)
    if "MaxItems" in config:
        expect_int(chk, config["MaxItems"], pointer(config_path, "MaxItems"), "MaxItems",
                   where, low=0, high=MAX_ITEMS, jsonata=ctx.language == JSONATA)
    if "MaxItemsPath" in config:
        if ctx.language == JSONATA:
            chk.schema(config_path, _jsonpath_only("MaxItemsPath"))
        else:
            check_path(chk, config, "MaxItemsPath", config_path, where, REFERENCE)


def _jsonpath_only(key: str) -> str:
    return (f"The QueryLanguage is set to 'JSONata', but field '{key}' is only supported for "
            "the 'JSONPath' QueryLanguage")


def _check_batcher(chk: Checker, batcher: Any, path: str, ctx: StateContext) -> None:
    where = ctx.where
    if not expect_object(chk, batcher, path, "ItemBatcher", where):
        return
    check_fields(chk, batcher, path, _BATCHER_FIELDS)
    if not any(k in batcher for k in ("MaxItemsPerBatch", "MaxItemsPerBatchPath",
                                      "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath")):
        chk.schema(path, f"ItemBatcher {where} must set at least one of 'MaxItemsPerBatch', "
                   "'MaxItemsPerBatchPath', 'MaxInputBytesPerBatch' or "
                   "'MaxInputBytesPerBatchPath'")
    jsonata = ctx.language == JSONATA
    for key, high in (("MaxItemsPerBatch", None), ("MaxInputBytesPerBatch", MAX_BATCH_BYTES)):
        exclusive(chk, batcher, key, key + "Path", path, where)
        if key in batcher:
            expect_int(chk, batcher[key], pointer(path, key), key, where, low=1, high=high,
                       jsonata=jsonata)
        if key + "Path" in batcher:
            if jsonata:
                chk.schema(path, _jsonpath_only(key + "Path"))
            else:
                check_path(chk, batcher, key + "Path", path, where, REFERENCE)
    if "BatchInput" in batcher and not jsonata:
        check_payload(chk, batcher, "BatchInput", path, where, must_be_object=True)


def _check_writer(chk: Checker, writer: Any, path: str, ctx: StateContext) -> None:
    where = ctx.where
    if not expect_object(chk, writer, path, "ResultWriter", where):
        return
    if not writer:
        chk.schema(path, f"Field 'ResultWriter' {where} must not be empty: give 'Resource' "
                   "with 'Parameters'/'Arguments', 'WriterConfig', or both")
        return
    check_fields(chk, writer, path, _WRITER_FIELDS)
    if "Resource" in writer:
        resource = writer["Resource"]
        if not isinstance(resource, str) or not _WRITER_RESOURCE.fullmatch(resource):
            chk.schema(pointer(path, "Resource"),
                       f"Field 'Resource' of ResultWriter {where} must be "
                       f"'arn:aws:states:::s3:putObject', got {show(resource)}")
    has_args = "Parameters" in writer or "Arguments" in writer
    if "Resource" in writer and not has_args:
        chk.schema(path, f"ResultWriter {where} has 'Resource' but no 'Parameters' or "
                   "'Arguments' naming the bucket")
    if has_args and "Resource" not in writer:
        chk.schema(path, f"Missing required field 'Resource' in ResultWriter {where}: it is "
                   "required with 'Parameters'/'Arguments'")
    _check_args(chk, writer, path, ctx, "ResultWriter")
    _check_s3_args(chk, writer, path, ctx, "ResultWriter", ("Bucket",), ("Prefix",))
    if "WriterConfig" in writer:
        config = writer["WriterConfig"]
        config_path = pointer(path, "WriterConfig")
        if not expect_object(chk, config, config_path, "WriterConfig", where):
            return
        check_fields(chk, config, config_path, frozenset({"OutputType", "Transformation"}))
        if "OutputType" not in config:
            chk.schema(config_path, f"Missing required field 'OutputType' in WriterConfig {where}")
        else:
            expect_enum(chk, config["OutputType"], pointer(config_path, "OutputType"),
                        "OutputType", where, ("JSON", "JSONL"))
        if "Transformation" in config:
            expect_enum(chk, config["Transformation"], pointer(config_path, "Transformation"),
                        "Transformation", where, ("NONE", "COMPACT", "FLATTEN"))



