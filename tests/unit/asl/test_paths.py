"""Paths and reference paths (spec 5.3): compile, find, assign."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from orchestrator.asl._paths import (
    JsonPath,
    PathAssignError,
    PathNotFound,
    PathSyntaxError,
    ReferencePath,
    compile_path,
    compile_reference_path,
)

DOC: dict[str, Any] = {
    "a": {"b": {"c": 1}},
    "list": [10, 20, {"x": "deep"}],
    "x y": 7,
    "it's": "quoted",
    "a-b": "dash",
    "items": [{"id": 1, "v": 5}, {"id": 2, "v": 0}, {"id": 3}],
    "n": None,
    "s": "abc",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$", DOC),
        ("$.a", {"b": {"c": 1}}),
        ("$.a.b.c", 1),
        ("$['a']['b']", {"c": 1}),
        ('$["a"].b', {"c": 1}),
        ("$['x y']", 7),
        ("$['it\\'s']", "quoted"),
        ("$.a-b", "dash"),
        ("$.list[0]", 10),
        ("$.list[2].x", "deep"),
        ("$.list[-1]", {"x": "deep"}),
        ("$.n", None),
    ],
)
def test_definite_path_returns_the_value(text: str, expected: Any) -> None:
    path = compile_path(text)
    assert path.is_definite is True
    assert path.find(DOC) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$.items[*].id", [1, 2, 3]),
        ("$.items[0:2].id", [1, 2]),
        ("$..c", [1]),
        ("$.items[?(@.v > 1)].id", [1]),
        ("$.missing[*]", []),
        ("$.list[*]", [10, 20, {"x": "deep"}]),
    ],
)
def test_indefinite_path_returns_the_list_of_matches(text: str, expected: Any) -> None:
    path = compile_path(text)
    assert path.is_definite is False
    assert path.find(DOC) == expected


@pytest.mark.parametrize(
    "text",
    ["$.missing", "$.a.missing", "$.a.b.c.d", "$.list[3]", "$.list[9].x", "$.s[0]", "$.a[0]",
     "$.s.x", "$.n.x", "$.list.x"],
)
def test_definite_path_that_selects_nothing_raises_path_not_found(text: str) -> None:
    with pytest.raises(PathNotFound) as info:
        compile_path(text).find(DOC)
    assert info.value.path == text


def test_context_path_reads_the_context_object() -> None:
    path = compile_path("$$.Map.Item.Value")
    assert path.is_context is True
    assert path.find({"ignored": 1}, {"Map": {"Item": {"Value": {"k": 2}}}}) == {"k": 2}


def test_context_root_hides_private_keys() -> None:
    context = {"Execution": {"Id": "e"}, "__random_source__": object()}
    assert compile_path("$$").find({}, context) == {"Execution": {"Id": "e"}}


def test_context_path_without_a_context_raises_path_not_found() -> None:
    with pytest.raises(PathNotFound):
        compile_path("$$.Execution.Id").find({})


def test_data_path_is_not_a_context_path() -> None:
    assert compile_path("$.a").is_context is False


@pytest.mark.parametrize(
    "text", ["", "a.b", "$.", "$..", "$[", "$['a'", "$.a[1", "$.a[?(", "$a b"]
)
def test_invalid_path_raises_path_syntax_error(text: str) -> None:
    with pytest.raises(PathSyntaxError):
        compile_path(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("$.a[*]", "expected an array index or a quoted field name at position 4"),
        ("$.*", "expected a field name after '.' at position 2"),
        ("$..a", "expected a field name after '.'"),
        ("$.a[0:2]", "expected an array index or a quoted field name"),
        ("$[?(@.x)]", "expected an array index or a quoted field name"),
        ("$.a[-1]", "negative index [-1]"),
        ("a", "a path must start with '$'"),
        ("$.a,b", "unexpected character ','"),
    ],
)
def test_reference_path_refuses_non_reference_syntax(text: str, reason: str) -> None:
    with pytest.raises(PathSyntaxError) as info:
        compile_reference_path(text)
    assert reason in str(info.value)
    assert text in str(info.value)


def test_reference_path_is_a_json_path_and_is_cached() -> None:
    path = compile_reference_path("$.a.b")
    assert isinstance(path, ReferencePath)
    assert isinstance(path, JsonPath)
    assert compile_reference_path("$.a.b") is path
    assert path.steps == ("a", "b")


def test_compile_path_gives_a_reference_path_for_definite_text() -> None:
    assert isinstance(compile_path("$.a['b'][0]"), ReferencePath)
    assert compile_path("$.a['b'][0]").steps == ("a", "b", 0)


@pytest.mark.parametrize(
    ("text", "document", "value", "expected"),
    [
        ("$", {"a": 1}, {"r": 2}, {"r": 2}),
        ("$.r", {"a": 1}, 5, {"a": 1, "r": 5}),
        ("$.a", {"a": 1}, 5, {"a": 5}),
        ("$.x.y.z", {"a": 1}, 5, {"a": 1, "x": {"y": {"z": 5}}}),
        ("$.a.c", {"a": {"b": 1}}, 2, {"a": {"b": 1, "c": 2}}),
        ("$.l[1]", {"l": [1, 2, 3]}, "two", {"l": [1, "two", 3]}),
        ("$.l[0].k", {"l": [{"k": 1}]}, 9, {"l": [{"k": 9}]}),
        ("$['a b']", {}, True, {"a b": True}),
        ("$.r", {"a": 1}, None, {"a": 1, "r": None}),
    ],
)
def test_assign_places_the_value_without_mutating_the_input(
    text: str, document: Any, value: Any, expected: Any
) -> None:
    before = copy.deepcopy(document)
    assert compile_reference_path(text).assign(document, value) == expected
    assert document == before


def test_assign_shares_the_untouched_parts_of_the_document() -> None:
    untouched = {"big": [1, 2, 3]}
    result = compile_reference_path("$.a.b").assign({"keep": untouched, "a": {}}, 1)
    assert result["keep"] is untouched


@pytest.mark.parametrize(
    ("text", "document", "reason"),
    [
        ("$.a", "text", "cannot set field 'a' on a string"),
        ("$.a", [1], "cannot set field 'a' on an array"),
        ("$.a.b", {"a": 3}, "cannot set field 'b' on a number"),
        ("$.a.b", {"a": None}, "cannot set field 'b' on null"),
        ("$.l[5]", {"l": [1]}, "index [5] is out of range for an array of 1 items"),
        ("$.l[0]", {"l": {"0": 1}}, "cannot set index [0] on an object"),
        ("$.l[0]", {}, "cannot set index [0] on an object"),
    ],
)
def test_assign_that_cannot_apply_raises_path_assign_error(
    text: str, document: Any, reason: str
) -> None:
    with pytest.raises(PathAssignError) as info:
        compile_reference_path(text).assign(document, 1)
    assert info.value.path == text
    assert info.value.reason == reason
    assert isinstance(info.value, PathNotFound)


def test_assign_to_the_context_object_is_refused() -> None:
    with pytest.raises(PathAssignError):
        compile_reference_path("$$.Execution").assign({}, 1)
