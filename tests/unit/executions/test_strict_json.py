"""Strict JSON (executions/jsontext.py) and what stepmap can run (executions/runnable.py)."""

from __future__ import annotations

import json

import pytest

from orchestrator.executions import jsontext, runnable


@pytest.mark.parametrize(("text", "where", "mentions"), [
    ('{"a": NaN}', "/a", "NaN"),
    ('{"a": [1, Infinity]}', "/a/1", "Infinity"),
    ('{"a": -Infinity}', "/a", "-Infinity"),
    ('{"a": 1e999}', "/a", "1e999"),
    ('{"a": -1e400}', "/a", "-1e400"),
    ('{"n": ' + "9" * 400 + "}", "/n", "out of range"),
    ('{"n": ' + "9" * 5000 + "}", "/n", "out of range"),
    ('{"a": {"b~/c": "\\ud800"}}', "/a/b~0~1c", "surrogate"),
    ('{"\\udc00": 1}', "", "member name"),
    ("[" * 257 + "]" * 257, "/0/0", "256 levels"),
    ("[" * 5000 + "]" * 5000, "", "256 levels"),
    ("{", "", "not valid JSON"),
])
def test_values_stepmap_cannot_store_are_refused_with_where_they_are(
    text: str, where: str, mentions: str
) -> None:
    with pytest.raises(jsontext.JsonRefused) as caught:
        jsontext.loads(text)
    assert caught.value.where.startswith(where)
    assert mentions in str(caught.value)


def test_a_text_with_a_raw_lone_surrogate_is_refused() -> None:
    with pytest.raises(jsontext.JsonRefused, match="surrogate"):
        jsontext.loads('{"a": "\ud800"}')


@pytest.mark.parametrize("text", [
    '{"a": 1.5e308, "b": -2, "c": "ü😀", "d": [null, true]}',
    "[" * 256 + "]" * 256,
    str(2**70),
])
def test_ordinary_json_is_accepted_unchanged(text: str) -> None:
    assert jsontext.loads(text) == json.loads(text)


def task(resource: str) -> dict[str, object]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True}}}


@pytest.mark.parametrize(("resource", "supported"), [
    ("arn:aws:states:::lambda:invoke", True),
    ("arn:aws:lambda:us-east-1:123456789012:function:f", True),
    ("arn:aws:lambda:eu-west-1:123456789012:function:f:prod", True),
    ("arn:aws:states:::lambda:invoke.waitForTaskToken", True),
    ("arn:aws:states:::lambda:invoke.sync", False),
    ("arn:aws:states:us-east-1:123456789012:activity:X", True),
    ("arn:aws:states:us-east-1:123456789012:activity:X:extra", False),
    ("arn:aws:states:::sqs:sendMessage", False),
    ("arn:aws:states:::aws-sdk:s3:listBuckets", False),
])
def test_task_resources_the_workers_cannot_run_are_unsupported(
    resource: str, supported: bool
) -> None:
    problems = runnable.unsupported_problems(task(resource))
    assert (problems == []) is supported
    if not supported:
        assert problems[0].path == "/States/T/Resource"
        assert problems[0].code == "UNSUPPORTED_FEATURE"
        assert resource in problems[0].message


def test_unsupported_fields_are_found_in_nested_branches_and_processors() -> None:
    inner = task("arn:aws:states:::sns:publish")
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True,
                                                   "Branches": [inner]}}}
    assert [p.path for p in runnable.unsupported_problems(definition)] == [
        "/States/P/Branches/0/States/T/Resource"]
    mapped = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "ItemProcessor": inner,
        "ItemReader": {"ReaderConfig": {"InputType": "PARQUET"}}}}}
    assert sorted(p.path for p in runnable.unsupported_problems(mapped)) == [
        "/States/M/ItemProcessor/States/T/Resource"]


def test_parquet_is_refused_at_create_only_where_pyarrow_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    mapped = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "ItemReader": {"ReaderConfig": {"InputType": "PARQUET"}}}}}
    assert runnable.parquet_readable()  # the dev extra installs pyarrow
    assert list(runnable.unsupported_problems(mapped)) == []
    monkeypatch.setattr(runnable, "parquet_readable", lambda: False)
    (problem,) = runnable.unsupported_problems(mapped)
    assert (problem.path, problem.code) == ("/States/M/ItemReader/ReaderConfig/InputType", "UNSUPPORTED_FEATURE")
    assert "pip install 'stepmap[parquet]'" in problem.message


@pytest.mark.parametrize(("text", "code"), [
    ("null", "SCHEMA_VALIDATION_FAILED"), ("[]", "SCHEMA_VALIDATION_FAILED"),
    ('{"StartAt": NaN}', "INVALID_JSON_DESCRIPTION"),
])
def test_definition_text_must_be_a_strict_json_object(text: str, code: str) -> None:
    value, problems = runnable.parse_problems(text)
    assert value is None
    assert [p.code for p in problems] == [code]


@pytest.mark.parametrize("resource", [
    "arn:aws:states:::lambda:invoke.waitForTaskToken",
    "arn:aws:states:us-east-1:123456789012:activity:X",
])
def test_token_waits_are_refused_in_express_executions(resource: str) -> None:
    assert runnable.unsupported_problems(task(resource), "STANDARD") == []
    (problem,) = runnable.unsupported_problems(task(resource), "EXPRESS")
    assert problem.code == "UNSUPPORTED_FEATURE" and "EXPRESS" in problem.message
    children = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            **task(resource)}}}}
    (inner,) = runnable.unsupported_problems(children, "STANDARD")
    assert inner.path == "/States/M/ItemProcessor/States/T/Resource"
