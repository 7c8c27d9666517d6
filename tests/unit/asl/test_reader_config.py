"""ItemReader.ReaderConfig is typed from the definition to the Map Run request (issue 8)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import FakeClock, FakeMapRunner, execution_info

from orchestrator.asl import (
    CsvDelimiter,
    CsvHeaderLocation,
    DistributedMapRequest,
    InputType,
    ItemReaderFailed,
    ItemReaderRequest,
    ManifestType,
    MapState,
    Ports,
    ReaderConfig,
    ReaderTransformation,
    parse_definition,
    run_execution,
)


def _definition(reader_config: dict[str, Any], *, jsonata: bool = False,
                resource: str = "arn:aws:states:::s3:getObject") -> dict[str, Any]:
    params = {"Bucket": "b", "Key": "k"} if resource.endswith("getObject") else {"Bucket": "b"}
    reader: dict[str, Any] = {"Resource": resource, "ReaderConfig": reader_config,
                              ("Arguments" if jsonata else "Parameters"): params}
    definition: dict[str, Any] = {
        "StartAt": "M",
        "States": {"M": {
            "Type": "Map",
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED",
                                                  "ExecutionType": "EXPRESS"},
                              "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            "ItemReader": reader,
            "End": True,
        }},
    }
    if jsonata:
        definition["QueryLanguage"] = "JSONata"
    return definition


def _reader_model(definition: dict[str, Any]) -> ReaderConfig:
    state = parse_definition(definition).states["M"]
    assert isinstance(state, MapState) and state.item_reader is not None
    return state.item_reader.reader_config


def _request(definition: dict[str, Any], data: Any) -> DistributedMapRequest:
    runner = FakeMapRunner()
    run_execution(parse_definition(definition), data, execution_info(),
                  Ports(tasks=runner.tasks, clock=FakeClock(), map_runner=runner))
    assert len(runner.requests) == 1
    return runner.requests[0]


def test_csv_reader_config_is_parsed_into_typed_values_once() -> None:
    config = _reader_model(_definition({
        "InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["a", "b"],
        "CSVDelimiter": "PIPE", "MaxItems": 7,
    }))
    assert config == ReaderConfig(
        input_type=InputType.CSV, csv_header_location=CsvHeaderLocation.GIVEN,
        csv_headers=("a", "b"), csv_delimiter=CsvDelimiter.PIPE, max_items=7,
    )
    assert config.csv_delimiter.char == "|"


def test_absent_fields_take_the_documented_defaults() -> None:
    config = _reader_model(_definition({"InputType": "JSON", "ItemsPointer": "/rows"}))
    assert config.transformation is ReaderTransformation.NONE
    assert config.csv_header_location is CsvHeaderLocation.FIRST_ROW
    assert config.csv_delimiter is CsvDelimiter.COMMA
    assert (config.items_pointer, config.max_items, config.manifest_type) == ("/rows", None, None)


def test_listing_and_manifest_fields_are_typed() -> None:
    flatten = _reader_model(_definition(
        {"InputType": "JSONL", "Transformation": "LOAD_AND_FLATTEN"},
        resource="arn:aws:states:::s3:listObjectsV2"))
    assert flatten.transformation is ReaderTransformation.LOAD_AND_FLATTEN
    athena = _reader_model(_definition({"ManifestType": "ATHENA_DATA", "InputType": "CSV",
                                        "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["x"]}))
    assert athena.manifest_type is ManifestType.ATHENA_DATA


def test_max_items_path_is_resolved_into_the_typed_request() -> None:
    request = _request(_definition({"InputType": "CSV", "MaxItemsPath": "$.limit"}),
                       {"limit": 12})
    assert request.reader is not None
    assert request.reader.config == ReaderConfig(input_type=InputType.CSV, max_items=12)
    assert request.reader.parameters == {"Bucket": "b", "Key": "k"}


def test_max_items_jsonata_expression_is_resolved_into_the_typed_request() -> None:
    request = _request(_definition({"InputType": "JSON", "MaxItems": "{% $states.input.n * 2 %}"},
                                   jsonata=True), {"n": 4})
    assert request.reader is not None and request.reader.config.max_items == 8


def test_request_round_trips_through_json_with_the_reader_typed() -> None:
    request = _request(_definition({"InputType": "CSV", "CSVHeaderLocation": "GIVEN",
                                    "CSVHeaders": ["a"], "CSVDelimiter": "TAB",
                                    "MaxItems": 3}), {})
    stored = json.loads(json.dumps(request.to_dict()))
    assert stored["reader"]["config"]["csv_headers"] == ["a"]
    assert stored["reader"]["config"]["csv_delimiter"] == "TAB"
    assert DistributedMapRequest.from_dict(stored) == request


def test_a_request_stored_in_the_asl_shape_is_read_typed() -> None:
    request = _request(_definition({"InputType": "CSV", "MaxItems": 3}), {})
    stored = json.loads(json.dumps(request.to_dict()))
    stored["reader"] = {"Resource": "arn:aws:states:::s3:getObject",
                        "Parameters": {"Bucket": "b", "Key": "k"},
                        "ReaderConfig": {"InputType": "CSV", "MaxItems": 3}}
    assert DistributedMapRequest.from_dict(stored) == request


def test_asl_shape_renders_only_the_fields_that_are_set() -> None:
    reader = ItemReaderRequest.of_asl({"Resource": "arn:aws:states:::s3:getObject",
                                       "Parameters": {"Bucket": "b", "Key": "k"},
                                       "ReaderConfig": {"InputType": "CSV",
                                                        "CSVDelimiter": "SEMICOLON"}})
    assert reader.to_asl()["ReaderConfig"] == {"InputType": "CSV", "CSVDelimiter": "SEMICOLON"}


def test_an_unknown_enumerated_value_outside_a_definition_names_field_and_choices() -> None:
    with pytest.raises(ItemReaderFailed) as raised:
        ItemReaderRequest.of_asl({"Resource": "arn:aws:states:::s3:getObject",
                                  "ReaderConfig": {"InputType": "XML"}})
    assert raised.value.cause == (
        "Unsupported ReaderConfig InputType 'XML'; "
        "expected one of CSV, JSON, JSONL, PARQUET, MANIFEST."
    )
