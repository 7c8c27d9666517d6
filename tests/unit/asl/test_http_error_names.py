"""The HTTP Task's error names are reserved names a Retry or Catch may use (issue 11 part 4)."""

from __future__ import annotations

import json

import pytest

from orchestrator.asl import validate_definition
from orchestrator.asl.errors import is_reserved_name


def _catching(name: str) -> str:
    return json.dumps({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke", "End": True,
              "Parameters": {"ApiEndpoint": "https://a.example", "Method": "GET"},
              "Retry": [{"ErrorEquals": [name]}],
              "Catch": [{"ErrorEquals": [name], "Next": "C"}]},
        "C": {"Type": "Pass", "End": True}}})


@pytest.mark.parametrize("name", ["States.Http.StatusCode.404", "States.Http.StatusCode.500",
                                  "States.Http.Socket", "States.TaskFailed"])
def test_http_error_names_are_accepted_in_retry_and_catch(name: str) -> None:
    assert is_reserved_name(name)
    assert list(validate_definition(_catching(name))) == []


@pytest.mark.parametrize("name", ["States.Http.StatusCode.40", "States.Http.StatusCode.4041",
                                  "States.Http.StatusCode.abc", "States.Http.StatusCode.",
                                  "States.Http.StatusCode.٤٠٤", "States.Http.Other"])
def test_other_states_http_names_are_still_refused(name: str) -> None:
    assert not is_reserved_name(name)
    problems = list(validate_definition(_catching(name)))
    assert problems and all("unknown reserved error name" in p.message for p in problems)
