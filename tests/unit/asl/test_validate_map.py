"""validate_definition on Map states: processor, mode rules, reader, batcher, thresholds, label,
writer (spec 1.4, 2.1-2.7).

Cases mutate the valid base definition: ``Each`` is an Inline Map, ``Big`` a Distributed Map
with every optional field set.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.asl._validate import validate_definition

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "asl"
BASE = "valid/jsonpath_every_state_type"
DELETE = object()
SCHEMA = "SCHEMA_VALIDATION_FAILED"
BIG = "/States/Big"
READER = "/States/Big/ItemReader"
CONFIG = "/States/Big/ItemReader/ReaderConfig"
BATCHER = "/States/Big/ItemBatcher"
WRITER = "/States/Big/ResultWriter"
PROCESSOR_CONFIG = "/States/Big/ItemProcessor/ProcessorConfig"


def load(name: str) -> dict[str, Any]:
    """A fresh copy of a fixture definition (``valid/x`` or ``invalid/x``, no extension)."""
    result: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return result


def mutate(document: dict[str, Any], changes: list[tuple[str, Any]]) -> dict[str, Any]:
    """Apply (JSON Pointer, value) changes to a copy; value DELETE removes the key."""
    out = copy.deepcopy(document)
    for pointer, value in changes:
        parts = pointer.split("/")[1:]
        node: Any = out
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is DELETE:
            del node[parts[-1]]
        else:
            node[parts[-1]] = value
    return out


REJECTED: list[tuple[str, list[tuple[str, Any]], list[tuple[str, str]], tuple[str, ...]]] = [
    # --- processor and mode
    ("item_processor_missing", [("/States/Each/ItemProcessor", DELETE)],
     [("/States/Each", SCHEMA)], ("ItemProcessor",)),
    ("item_processor_and_iterator",
     [("/States/Each/Iterator", {"StartAt": "I2", "States": {"I2": {"Type": "Succeed"}}})],
     [("/States/Each", SCHEMA)], ("ItemProcessor", "Iterator")),
    ("item_processor_not_object", [("/States/Each/ItemProcessor", [])],
     [("/States/Each/ItemProcessor", SCHEMA)], ("[]",)),
    ("item_processor_without_states", [("/States/Each/ItemProcessor/States", DELETE)],
     [("/States/Each/ItemProcessor", SCHEMA)], ("States",)),
    ("item_processor_unknown_field", [("/States/Each/ItemProcessor/Next", "Done")],
     [("/States/Each/ItemProcessor", SCHEMA)], ("Next",)),
    ("item_processor_transition_out",
     [("/States/Each/ItemProcessor/States/I1/End", DELETE),
      ("/States/Each/ItemProcessor/States/I1/Next", "Big")],
     [("/States/Each/ItemProcessor/States/I1/Next", "MISSING_TRANSITION_TARGET"),
      ("/States/Each/ItemProcessor", "MISSING_END_STATE")], ("Missing 'Next' target: Big",)),
    ("processor_config_not_object", [("/States/Each/ItemProcessor/ProcessorConfig", "INLINE")],
     [("/States/Each/ItemProcessor/ProcessorConfig", SCHEMA)], ("ProcessorConfig", '"INLINE"')),
    ("processor_config_unknown_field", [(PROCESSOR_CONFIG + "/Workers", 3)],
     [(PROCESSOR_CONFIG, SCHEMA)], ("Workers",)),
    ("mode_unknown", [("/States/Each/ItemProcessor/ProcessorConfig/Mode", "PARALLEL")],
     [("/States/Each/ItemProcessor/ProcessorConfig/Mode", SCHEMA)],
     ("Mode", "PARALLEL", "DISTRIBUTED")),
    ("execution_type_unknown", [(PROCESSOR_CONFIG + "/ExecutionType", "FAST")],
     [(PROCESSOR_CONFIG + "/ExecutionType", SCHEMA)], ("ExecutionType", "FAST", "EXPRESS")),
    ("distributed_without_execution_type", [(PROCESSOR_CONFIG + "/ExecutionType", DELETE)],
     [(PROCESSOR_CONFIG, SCHEMA)], ("ExecutionType", "DISTRIBUTED")),
    # --- fields that only a Distributed Map has
    ("item_reader_on_inline_map",
     [("/States/Each/ItemReader", {"Resource": "arn:aws:states:::s3:listObjectsV2"})],
     [("/States/Each/ItemReader", SCHEMA)], ("ItemReader", "DISTRIBUTED")),
    ("item_batcher_on_inline_map", [("/States/Each/ItemBatcher", {"MaxItemsPerBatch": 2})],
     [("/States/Each/ItemBatcher", SCHEMA)], ("ItemBatcher", "DISTRIBUTED")),
    ("result_writer_on_inline_map",
     [("/States/Each/ResultWriter", {"WriterConfig": {"OutputType": "JSON"}})],
     [("/States/Each/ResultWriter", SCHEMA)], ("ResultWriter",)),
    ("label_on_inline_map", [("/States/Each/Label", "Each")],
     [("/States/Each/Label", SCHEMA)], ("Label",)),
    # --- items
    ("items_path_not_path", [("/States/Each/ItemsPath", "items")],
     [("/States/Each/ItemsPath", SCHEMA)], ("ItemsPath", '"items"')),
    ("item_selector_and_parameters", [("/States/Each/Parameters", {"a": 1})],
     [("/States/Each", SCHEMA)], ("ItemSelector", "Parameters")),
    ("item_selector_dollar_key_not_path", [("/States/Each/ItemSelector/value.$", "value")],
     [("/States/Each/ItemSelector/value.$", SCHEMA)], ("value.$", "ItemSelector", '"value"')),
    ("legacy_parameters_dollar_key_not_path",
     [("/States/Each/ItemSelector", DELETE), ("/States/Each/Parameters", {"v.$": 1})],
     [("/States/Each/Parameters/v.$", SCHEMA)], ("v.$", "Parameters")),
    # --- concurrency and thresholds
    ("max_concurrency_negative", [("/States/Each/MaxConcurrency", -1)],
     [("/States/Each/MaxConcurrency", SCHEMA)], ("MaxConcurrency", "-1")),
    ("max_concurrency_fraction", [("/States/Each/MaxConcurrency", 1.5)],
     [("/States/Each/MaxConcurrency", SCHEMA)], ("MaxConcurrency", "1.5")),
    ("max_concurrency_and_path", [("/States/Each/MaxConcurrencyPath", "$.c")],
     [("/States/Each", SCHEMA)], ("MaxConcurrency", "MaxConcurrencyPath")),
    ("max_concurrency_path_not_path", [("/States/Each/MaxConcurrency", DELETE),
                                       ("/States/Each/MaxConcurrencyPath", "c")],
     [("/States/Each/MaxConcurrencyPath", SCHEMA)], ("MaxConcurrencyPath", '"c"')),
    ("tolerated_count_negative", [(BIG + "/ToleratedFailureCount", -1)],
     [(BIG + "/ToleratedFailureCount", SCHEMA)], ("ToleratedFailureCount", "-1")),
    ("tolerated_count_and_path", [(BIG + "/ToleratedFailureCountPath", "$.n")],
     [(BIG, SCHEMA)], ("ToleratedFailureCount", "ToleratedFailureCountPath")),
    ("tolerated_percentage_above_100", [(BIG + "/ToleratedFailurePercentage", 100.5)],
     [(BIG + "/ToleratedFailurePercentage", SCHEMA)], ("ToleratedFailurePercentage", "100.5")),
    ("tolerated_percentage_negative", [(BIG + "/ToleratedFailurePercentage", -1)],
     [(BIG + "/ToleratedFailurePercentage", SCHEMA)], ("ToleratedFailurePercentage", "-1")),
    ("tolerated_percentage_string", [(BIG + "/ToleratedFailurePercentage", "5")],
     [(BIG + "/ToleratedFailurePercentage", SCHEMA)], ("ToleratedFailurePercentage", '"5"')),
    ("tolerated_percentage_and_path", [(BIG + "/ToleratedFailurePercentagePath", "$.p")],
     [(BIG, SCHEMA)], ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath")),
    ("tolerated_percentage_path_not_path", [(BIG + "/ToleratedFailurePercentage", DELETE),
                                            (BIG + "/ToleratedFailurePercentagePath", "p")],
     [(BIG + "/ToleratedFailurePercentagePath", SCHEMA)], ("ToleratedFailurePercentagePath",)),
    # --- label
    ("label_empty", [(BIG + "/Label", "")], [(BIG + "/Label", "INVALID_LABEL_NAME")],
     ("Label", '""')),
    ("label_41_characters", [(BIG + "/Label", "L" * 41)],
     [(BIG + "/Label", "INVALID_LABEL_NAME")], ("Label", "L" * 41, "41")),
    ("label_not_string", [(BIG + "/Label", 7)], [(BIG + "/Label", SCHEMA)], ("Label", "7")),
    # --- ItemReader
    ("reader_not_object", [(READER, "s3")], [(READER, SCHEMA)], ("ItemReader", '"s3"')),
    ("reader_resource_missing", [(READER + "/Resource", DELETE)], [(READER, SCHEMA)],
     ("Resource",)),
    ("reader_resource_unknown", [(READER + "/Resource", "arn:aws:states:::s3:putObject")],
     [(READER + "/Resource", SCHEMA)], ("Resource", "arn:aws:states:::s3:putObject")),
    ("reader_unknown_field", [(READER + "/Bucket", "b")], [(READER, SCHEMA)], ("Bucket",)),
    ("reader_arguments_in_jsonpath", [(READER + "/Arguments", {"Bucket": "b"})],
     [(READER, SCHEMA)], ("Arguments", "JSONata")),
    ("reader_parameters_not_object", [(READER + "/Parameters", "b")],
     [(READER + "/Parameters", SCHEMA)], ("Parameters", '"b"')),
    ("reader_parameters_dollar_key_not_path", [(READER + "/Parameters/Bucket.$", "bucket")],
     [(READER + "/Parameters/Bucket.$", SCHEMA)], ("Bucket.$", '"bucket"')),
    ("reader_config_not_object", [(CONFIG, [])], [(CONFIG, SCHEMA)], ("ReaderConfig", "[]")),
    ("reader_config_unknown_field", [(CONFIG + "/Header", "x")], [(CONFIG, SCHEMA)],
     ("Header",)),
    ("input_type_unknown", [(CONFIG + "/InputType", "XML")], [(CONFIG + "/InputType", SCHEMA)],
     ("InputType", "XML", "JSONL")),
    ("get_object_without_input_type", [(CONFIG + "/InputType", DELETE),
                                       (CONFIG + "/CSVHeaderLocation", DELETE)],
     [(CONFIG, SCHEMA)], ("InputType", "getObject")),
    ("header_location_unknown", [(CONFIG + "/CSVHeaderLocation", "LAST_ROW")],
     [(CONFIG + "/CSVHeaderLocation", SCHEMA)], ("CSVHeaderLocation", "LAST_ROW", "GIVEN")),
    ("given_headers_missing", [(CONFIG + "/CSVHeaderLocation", "GIVEN")],
     [(CONFIG, SCHEMA)], ("CSVHeaders", "GIVEN")),
    ("headers_with_first_row", [(CONFIG + "/CSVHeaders", ["a"])],
     [(CONFIG + "/CSVHeaders", SCHEMA)], ("CSVHeaders", "GIVEN")),
    ("given_headers_not_strings", [(CONFIG + "/CSVHeaderLocation", "GIVEN"),
                                   (CONFIG + "/CSVHeaders", ["a", 1])],
     [(CONFIG + "/CSVHeaders", SCHEMA)], ("CSVHeaders", '["a",1]')),
    ("given_headers_empty", [(CONFIG + "/CSVHeaderLocation", "GIVEN"),
                             (CONFIG + "/CSVHeaders", [])],
     [(CONFIG + "/CSVHeaders", SCHEMA)], ("CSVHeaders", "[]")),
    ("delimiter_unknown", [(CONFIG + "/CSVDelimiter", "COLON")],
     [(CONFIG + "/CSVDelimiter", SCHEMA)], ("CSVDelimiter", "COLON", "SEMICOLON")),
    ("max_items_negative", [(CONFIG + "/MaxItems", -1)], [(CONFIG + "/MaxItems", SCHEMA)],
     ("MaxItems", "-1")),
    ("max_items_above_limit", [(CONFIG + "/MaxItems", 100_000_001)],
     [(CONFIG + "/MaxItems", SCHEMA)], ("MaxItems", "100000001")),
    ("max_items_and_path", [(CONFIG + "/MaxItemsPath", "$.max")], [(CONFIG, SCHEMA)],
     ("MaxItems", "MaxItemsPath")),
    ("max_items_path_not_path", [(CONFIG + "/MaxItems", DELETE),
                                 (CONFIG + "/MaxItemsPath", "max")],
     [(CONFIG + "/MaxItemsPath", SCHEMA)], ("MaxItemsPath", '"max"')),
    ("s3_inventory_with_input_type", [(CONFIG + "/ManifestType", "S3_INVENTORY"),
                                      (CONFIG + "/CSVHeaderLocation", DELETE)],
     [(CONFIG + "/InputType", SCHEMA)], ("InputType", "S3_INVENTORY")),
    ("manifest_type_unknown", [(CONFIG + "/ManifestType", "GLUE")],
     [(CONFIG + "/ManifestType", SCHEMA)], ("ManifestType", "GLUE")),
    ("load_and_flatten_without_input_type",
     [(READER, {"Resource": "arn:aws:states:::s3:listObjectsV2",
                "Parameters": {"Bucket": "b"},
                "ReaderConfig": {"Transformation": "LOAD_AND_FLATTEN"}})],
     [(CONFIG, SCHEMA)], ("InputType", "LOAD_AND_FLATTEN")),
    ("transformation_unknown", [(CONFIG + "/Transformation", "UNZIP")],
     [(CONFIG + "/Transformation", SCHEMA)], ("Transformation", "UNZIP")),
    ("items_pointer_not_pointer", [(CONFIG + "/InputType", "JSON"),
                                   (CONFIG + "/CSVHeaderLocation", DELETE),
                                   (CONFIG + "/ItemsPointer", "a.b")],
     [(CONFIG + "/ItemsPointer", SCHEMA)], ("ItemsPointer", '"a.b"')),
    # --- ItemBatcher
    ("batcher_not_object", [(BATCHER, 10)], [(BATCHER, SCHEMA)], ("ItemBatcher", "10")),
    ("batcher_without_limits", [(BATCHER, {"BatchInput": {"a": 1}})], [(BATCHER, SCHEMA)],
     ("MaxItemsPerBatch", "MaxInputBytesPerBatch")),
    ("batcher_unknown_field", [(BATCHER + "/MaxBatches", 2)], [(BATCHER, SCHEMA)],
     ("MaxBatches",)),
    ("max_items_per_batch_zero", [(BATCHER + "/MaxItemsPerBatch", 0)],
     [(BATCHER + "/MaxItemsPerBatch", SCHEMA)], ("MaxItemsPerBatch", "positive integer", "0")),
    ("max_items_per_batch_and_path", [(BATCHER + "/MaxItemsPerBatchPath", "$.n")],
     [(BATCHER, SCHEMA)], ("MaxItemsPerBatch", "MaxItemsPerBatchPath")),
    ("max_items_per_batch_path_not_path", [(BATCHER + "/MaxItemsPerBatch", DELETE),
                                           (BATCHER + "/MaxItemsPerBatchPath", "n")],
     [(BATCHER + "/MaxItemsPerBatchPath", SCHEMA)], ("MaxItemsPerBatchPath", '"n"')),
    ("max_bytes_per_batch_above_256_kib", [(BATCHER + "/MaxInputBytesPerBatch", 262_145)],
     [(BATCHER + "/MaxInputBytesPerBatch", SCHEMA)], ("MaxInputBytesPerBatch", "262145")),
    ("max_bytes_per_batch_zero", [(BATCHER + "/MaxInputBytesPerBatch", 0)],
     [(BATCHER + "/MaxInputBytesPerBatch", SCHEMA)], ("MaxInputBytesPerBatch", "0")),
    ("max_bytes_per_batch_and_path", [(BATCHER + "/MaxInputBytesPerBatchPath", "$.b")],
     [(BATCHER, SCHEMA)], ("MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath")),
    ("batch_input_not_object", [(BATCHER + "/BatchInput", "x")],
     [(BATCHER + "/BatchInput", SCHEMA)], ("BatchInput", '"x"')),
    ("batch_input_dollar_key_not_path", [(BATCHER + "/BatchInput/run.$", "run")],
     [(BATCHER + "/BatchInput/run.$", SCHEMA)], ("run.$", "BatchInput")),
    # --- ResultWriter
    ("writer_empty", [(WRITER, {})], [(WRITER, SCHEMA)], ("ResultWriter", "empty")),
    ("writer_not_object", [(WRITER, "s3")], [(WRITER, SCHEMA)], ("ResultWriter", '"s3"')),
    ("writer_unknown_field", [(WRITER + "/Bucket", "b")], [(WRITER, SCHEMA)], ("Bucket",)),
    ("writer_resource_not_put_object", [(WRITER + "/Resource", "arn:aws:states:::s3:getObject")],
     [(WRITER + "/Resource", SCHEMA)], ("Resource", "arn:aws:states:::s3:getObject",
                                        "arn:aws:states:::s3:putObject")),
    ("writer_resource_without_parameters", [(WRITER + "/Parameters", DELETE)],
     [(WRITER, SCHEMA)], ("Resource", "Parameters")),
    ("writer_parameters_without_resource", [(WRITER + "/Resource", DELETE)],
     [(WRITER, SCHEMA)], ("Resource",)),
    ("writer_config_without_output_type", [(WRITER + "/WriterConfig/OutputType", DELETE)],
     [(WRITER + "/WriterConfig", SCHEMA)], ("OutputType",)),
    ("writer_output_type_unknown", [(WRITER + "/WriterConfig/OutputType", "CSV")],
     [(WRITER + "/WriterConfig/OutputType", SCHEMA)], ("OutputType", "CSV", "JSONL")),
    ("writer_transformation_unknown", [(WRITER + "/WriterConfig/Transformation", "RAW")],
     [(WRITER + "/WriterConfig/Transformation", SCHEMA)], ("Transformation", "RAW", "FLATTEN")),
    ("writer_config_unknown_field", [(WRITER + "/WriterConfig/Compression", "GZIP")],
     [(WRITER + "/WriterConfig", SCHEMA)], ("Compression",)),
    # --- Parameters of the reader and the writer: present and strings (issue 9)
    ("writer_parameters_without_bucket", [(WRITER + "/Parameters", {"Prefix": "runs"})],
     [(WRITER + "/Parameters", SCHEMA)], ("Bucket", "ResultWriter")),
    ("writer_bucket_number", [(WRITER + "/Parameters/Bucket", 7)],
     [(WRITER + "/Parameters/Bucket", SCHEMA)], ("Bucket", "string", "7")),
    ("writer_prefix_number", [(WRITER + "/Parameters/Prefix", 7)],
     [(WRITER + "/Parameters/Prefix", SCHEMA)], ("Prefix", "string", "7")),
    ("reader_key_missing", [(READER + "/Parameters/Key", DELETE)],
     [(READER + "/Parameters", SCHEMA)], ("Key", "ItemReader")),
    ("reader_key_object", [(READER + "/Parameters/Key", {"k": 1})],
     [(READER + "/Parameters/Key", SCHEMA)], ("Key", "string")),
    ("reader_bucket_missing", [(READER + "/Parameters/Bucket.$", DELETE)],
     [(READER + "/Parameters", SCHEMA)], ("Bucket",)),
    ("reader_list_prefix_number",
     [(READER, {"Resource": "arn:aws:states:::s3:listObjectsV2",
                "Parameters": {"Bucket": "b", "Prefix": 3}})],
     [(READER + "/Parameters/Prefix", SCHEMA)], ("Prefix", "string")),
    ("reader_version_id_bool", [(READER + "/Parameters/VersionId", True)],
     [(READER + "/Parameters/VersionId", SCHEMA)], ("VersionId", "string")),
    # --- query language placement inside a Distributed Map
    ("max_items_per_batch_path_in_jsonata_state",
     [(BIG + "/QueryLanguage", "JSONata"), (BIG + "/ResultPath", DELETE),
      (READER + "/Parameters", DELETE), (WRITER + "/Parameters", DELETE),
      (WRITER + "/Resource", DELETE), (BATCHER, {"MaxItemsPerBatchPath": "$.n"})],
     [(BATCHER, SCHEMA)], ("MaxItemsPerBatchPath", "JSONPath")),
]

ACCEPTED: list[tuple[str, list[tuple[str, Any]]]] = [
    # Observed on AWS: accepted on an INLINE Map, and without effect there.
    ("tolerated_failure_count_on_inline_map", [("/States/Each/ToleratedFailureCount", 1)]),
    ("tolerated_failure_percentage_on_inline_map",
     [("/States/Each/ToleratedFailurePercentage", 1)]),
    ("inline_map_without_processor_config", [("/States/Each/ItemProcessor/ProcessorConfig",
                                              DELETE)]),
    ("legacy_iterator", [("/States/Each/Iterator", {"StartAt": "I2",
                                                    "States": {"I2": {"Type": "Succeed"}}}),
                         ("/States/Each/ItemProcessor", DELETE)]),
    ("legacy_parameters", [("/States/Each/ItemSelector", DELETE),
                           ("/States/Each/Parameters", {"v.$": "$$.Map.Item.Value"})]),
    ("execution_type_standard", [(PROCESSOR_CONFIG + "/ExecutionType", "STANDARD")]),
    ("max_concurrency_zero", [("/States/Each/MaxConcurrency", 0)]),
    ("max_concurrency_path", [("/States/Each/MaxConcurrency", DELETE),
                              ("/States/Each/MaxConcurrencyPath", "$.concurrency")]),
    ("thresholds_at_bounds", [(BIG + "/ToleratedFailureCount", 0),
                              (BIG + "/ToleratedFailurePercentage", 100)]),
    ("fractional_percentage", [(BIG + "/ToleratedFailurePercentage", 2.5)]),
    ("threshold_paths", [(BIG + "/ToleratedFailureCount", DELETE),
                         (BIG + "/ToleratedFailurePercentage", DELETE),
                         (BIG + "/ToleratedFailureCountPath", "$.count"),
                         (BIG + "/ToleratedFailurePercentagePath", "$.percentage")]),
    ("label_of_40_characters", [(BIG + "/Label", "L" * 40)]),
    ("label_with_slash_and_unicode", [(BIG + "/Label", "Größe/daily-run_1.2")]),
    ("label_omitted", [(BIG + "/Label", DELETE)]),
    ("reader_list_objects_without_config",
     [(READER, {"Resource": "arn:aws:states:::s3:listObjectsV2",
                "Parameters": {"Bucket": "b", "Prefix": "p/"}})]),
    ("reader_given_headers", [(CONFIG + "/CSVHeaderLocation", "GIVEN"),
                              (CONFIG + "/CSVHeaders", ["id", "name"]),
                              (CONFIG + "/CSVDelimiter", "SEMICOLON")]),
    ("reader_csv_without_header_location", [(CONFIG + "/CSVHeaderLocation", DELETE)]),
    ("reader_json_with_items_pointer", [(CONFIG + "/InputType", "JSON"),
                                        (CONFIG + "/CSVHeaderLocation", DELETE),
                                        (CONFIG + "/ItemsPointer", "/data/rows")]),
    ("reader_max_items_zero", [(CONFIG + "/MaxItems", 0)]),
    ("reader_max_items_limit", [(CONFIG + "/MaxItems", 100_000_000)]),
    ("reader_max_items_path", [(CONFIG + "/MaxItems", DELETE),
                               (CONFIG + "/MaxItemsPath", "$.max")]),
    ("reader_s3_inventory", [(CONFIG, {"ManifestType": "S3_INVENTORY"})]),
    ("reader_athena_manifest", [(CONFIG, {"ManifestType": "ATHENA_DATA", "InputType": "CSV",
                                          "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["a"]})]),
    ("reader_legacy_manifest_input_type", [(CONFIG, {"InputType": "MANIFEST"})]),
    ("batcher_items_only", [(BATCHER, {"MaxItemsPerBatch": 1})]),
    ("batcher_bytes_only_at_limit", [(BATCHER, {"MaxInputBytesPerBatch": 262_144})]),
    ("batcher_paths", [(BATCHER, {"MaxItemsPerBatchPath": "$.n",
                                  "MaxInputBytesPerBatchPath": "$.bytes"})]),
    ("writer_config_only", [(WRITER, {"WriterConfig": {"OutputType": "JSON",
                                                       "Transformation": "FLATTEN"}})]),
    ("writer_export_only", [(WRITER + "/WriterConfig", DELETE)]),
    ("writer_dynamic_bucket", [(WRITER + "/Parameters", {"Bucket.$": "$.bucket"})]),
    ("item_selector_any_json", [("/States/Each/ItemSelector", {"a": [1, {"b.$": "$.x"}]})]),
]


@pytest.mark.parametrize(("changes", "expected", "mentions"),
                         [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED])
def test_map_validation_rejects(
    changes: list[tuple[str, Any]], expected: list[tuple[str, str]], mentions: tuple[str, ...]
) -> None:
    problems = validate_definition(mutate(load(BASE), changes))

    assert [(p.path, p.code) for p in problems] == expected
    for word in mentions:
        assert word in problems[0].message


@pytest.mark.parametrize("changes", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_map_validation_accepts(changes: list[tuple[str, Any]]) -> None:
    assert validate_definition(mutate(load(BASE), changes)) == []


# Every character spec 1.4 forbids in a Label, each on its own (AWS tested them one by one).
FORBIDDEN_LABEL_CHARACTERS = [
    " ", "\t", "\n", "?", "*", "<", ">", "{", "}", "[", "]", ":", ";", ",", "\\", "|", "^",
    "~", "$", "#", "%", "&", "`", '"', "\x00", "\x1f", "\x7f", "\x9f",
]


@pytest.mark.parametrize("character", FORBIDDEN_LABEL_CHARACTERS,
                         ids=[f"U+{ord(c):04X}" for c in FORBIDDEN_LABEL_CHARACTERS])
def test_label_rejects_forbidden_character(character: str) -> None:
    label = f"run{character}1"

    problems = validate_definition(mutate(load(BASE), [(BIG + "/Label", label)]))

    assert [(p.path, p.code) for p in problems] == [(BIG + "/Label", "INVALID_LABEL_NAME")]
    assert "Label" in problems[0].message
    assert json.dumps(label) in problems[0].message


def test_distributed_map_needs_a_standard_state_machine() -> None:
    problems = validate_definition(load(BASE), machine_type="EXPRESS")

    assert [(p.path, p.code) for p in problems] == [(PROCESSOR_CONFIG + "/Mode", SCHEMA)]
    assert "EXPRESS" in problems[0].message
    assert "DISTRIBUTED" in problems[0].message


def test_inline_map_is_allowed_in_an_express_state_machine() -> None:
    document = mutate(load(BASE), [("/States/Big/Next", DELETE), ("/States/Big/End", True)])
    del document["States"]["Big"]
    document["States"]["Each"]["Next"] = "Done"

    assert validate_definition(document, machine_type="EXPRESS") == []


def test_jsonata_distributed_map_rejects_reader_parameters() -> None:
    document = load("valid/jsonata_every_state_type")
    reader = document["States"]["Big"]["ItemReader"]
    reader["Parameters"] = reader.pop("Arguments")

    problems = validate_definition(document)

    assert [(p.path, p.code) for p in problems] == [(READER, SCHEMA)]
    assert problems[0].message == (
        "The QueryLanguage is set to 'JSONata', but field 'Parameters' of ItemReader is only "
        "supported for the 'JSONPath' QueryLanguage")


def test_jsonata_map_items_must_be_array_object_or_expression() -> None:
    document = load("valid/jsonata_every_state_type")
    document["States"]["Each"]["Items"] = "items"

    problems = validate_definition(document)

    assert [(p.path, p.code) for p in problems] == [("/States/Each/Items", SCHEMA)]
    assert '"items"' in problems[0].message
