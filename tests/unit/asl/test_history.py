"""History events: AWS's types, detail shapes, ids and previousEventId."""

from __future__ import annotations

from typing import Any

from conftest import T0, FakeClock, FakeInvoker, FakeMapRunner, execution_info

from orchestrator.asl import (
    EngineOptions,
    Failed,
    Ports,
    Succeeded,
    parse_definition,
    run_execution,
)


def run(definition: dict[str, Any], input: Any, **kwargs: Any) -> Any:
    options = kwargs.pop("options", None)
    ports = Ports(
        tasks=kwargs.pop("tasks", FakeInvoker()),
        clock=FakeClock(),
        map_runner=FakeMapRunner(),
    )
    return run_execution(
        parse_definition(definition), input, execution_info(), ports, options=options
    )


LINEAR = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Result": {"x": "é"}, "Next": "B"},
        "B": {"Type": "Succeed"},
    },
}


def test_linear_history_has_aws_shapes_and_chained_ids() -> None:
    outcome = run(LINEAR, {"in": 1})
    assert isinstance(outcome, Succeeded)
    ts = T0.timestamp()
    assert outcome.events == [
        {
            "timestamp": ts,
            "type": "ExecutionStarted",
            "id": 1,
            "previousEventId": 0,
            "executionStartedEventDetails": {
                "input": '{"in":1}',
                "inputDetails": {"truncated": False},
                "roleArn": "arn:aws:iam::000000000000:role/stepmap",
            },
        },
        {
            "timestamp": ts,
            "type": "PassStateEntered",
            "id": 2,
            "previousEventId": 1,
            "stateEnteredEventDetails": {
                "name": "A",
                "input": '{"in":1}',
                "inputDetails": {"truncated": False},
            },
        },
        {
            "timestamp": ts,
            "type": "PassStateExited",
            "id": 3,
            "previousEventId": 2,
            "stateExitedEventDetails": {
                "name": "A",
                "output": '{"x":"é"}',
                "outputDetails": {"truncated": False},
            },
        },
        {
            "timestamp": ts,
            "type": "SucceedStateEntered",
            "id": 4,
            "previousEventId": 3,
            "stateEnteredEventDetails": {
                "name": "B",
                "input": '{"x":"é"}',
                "inputDetails": {"truncated": False},
            },
        },
        {
            "timestamp": ts,
            "type": "SucceedStateExited",
            "id": 5,
            "previousEventId": 4,
            "stateExitedEventDetails": {
                "name": "B",
                "output": '{"x":"é"}',
                "outputDetails": {"truncated": False},
            },
        },
        {
            "timestamp": ts,
            "type": "ExecutionSucceeded",
            "id": 6,
            "previousEventId": 5,
            "executionSucceededEventDetails": {
                "output": '{"x":"é"}',
                "outputDetails": {"truncated": False},
            },
        },
    ]


def test_history_off_collects_no_events_but_same_output() -> None:
    outcome = run(LINEAR, {"in": 1}, options=EngineOptions(history=False))
    assert isinstance(outcome, Succeeded)
    assert outcome.events == []
    assert outcome.output == {"x": "é"}


def test_history_off_still_numbers_events_for_runtime_causes() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "InputPath": "$.nope", "End": True},
        },
    }
    outcome = run(definition, {}, options=EngineOptions(history=False))
    assert isinstance(outcome, Failed)
    assert outcome.cause.startswith(
        "An error occurred while executing the state 'B' (entered at the event id #4). "
    )


def test_task_events_carry_resource_type_region_and_parameters() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f"},
                "TimeoutSeconds": 30,
                "HeartbeatSeconds": 10,
                "End": True,
            }
        },
    }
    outcome = run(
        definition, {}, tasks=FakeInvoker({"arn:aws:states:::lambda:invoke": {"ok": 1}})
    )
    by_type = {e["type"]: e for e in outcome.events}
    assert by_type["TaskScheduled"]["taskScheduledEventDetails"] == {
        "resourceType": "lambda",
        "resource": "invoke",
        "region": "us-east-1",
        "parameters": '{"FunctionName":"f"}',
        "timeoutInSeconds": 30,
        "heartbeatInSeconds": 10,
    }
    assert by_type["TaskStarted"]["taskStartedEventDetails"] == {
        "resourceType": "lambda",
        "resource": "invoke",
    }
    assert by_type["TaskSucceeded"]["taskSucceededEventDetails"] == {
        "resourceType": "lambda",
        "resource": "invoke",
        "output": '{"ok":1}',
        "outputDetails": {"truncated": False},
    }


def test_aws_sdk_resource_type_keeps_the_service() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:listObjectsV2",
                "End": True,
            }
        },
    }
    outcome = run(definition, {"Bucket": "b"})
    scheduled = next(e for e in outcome.events if e["type"] == "TaskScheduled")
    assert scheduled["taskScheduledEventDetails"]["resourceType"] == "aws-sdk:s3"
    assert scheduled["taskScheduledEventDetails"]["resource"] == "listObjectsV2"


def test_task_failure_event_and_execution_failed_details() -> None:
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::test:x", "End": True}},
    }
    outcome = run(
        definition, {}, tasks=FakeInvoker({"arn:aws:states:::test:x": {"error": "E", "cause": "C"}})
    )
    assert isinstance(outcome, Failed)
    failed = outcome.events[-2]
    assert failed["type"] == "TaskFailed"
    assert failed["taskFailedEventDetails"] == {
        "resourceType": "test",
        "resource": "x",
        "error": "E",
        "cause": "C",
    }
    assert outcome.events[-1]["executionFailedEventDetails"] == {
        "error": "E",
        "cause": "C",
    }
    assert outcome.events[-1]["previousEventId"] == failed["id"]


def test_parallel_branches_chain_from_parallel_state_started() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
                ],
                "End": True,
            }
        },
    }
    outcome = run(definition, {})
    pairs = [(e["id"], e["type"], e["previousEventId"]) for e in outcome.events]
    assert pairs == [
        (1, "ExecutionStarted", 0),
        (2, "ParallelStateEntered", 1),
        (3, "ParallelStateStarted", 2),
        (4, "PassStateEntered", 3),
        (5, "PassStateExited", 4),
        (6, "PassStateEntered", 3),
        (7, "PassStateExited", 6),
        (8, "ParallelStateSucceeded", 7),
        (9, "ParallelStateExited", 8),
        (10, "ExecutionSucceeded", 9),
    ]


def test_inline_map_iteration_events_name_the_map_and_index() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "I",
                    "States": {"I": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }
    outcome = run(definition, ["a", "b"])
    started = [e for e in outcome.events if e["type"] == "MapStateStarted"]
    assert started[0]["mapStateStartedEventDetails"] == {"length": 2}
    iterations = [e for e in outcome.events if e["type"].startswith("MapIteration")]
    assert [
        (e["type"], e[next(k for k in e if k.endswith("EventDetails"))])
        for e in iterations
    ] == [
        ("MapIterationStarted", {"name": "M", "index": 0}),
        ("MapIterationSucceeded", {"name": "M", "index": 0}),
        ("MapIterationStarted", {"name": "M", "index": 1}),
        ("MapIterationSucceeded", {"name": "M", "index": 1}),
    ]


def test_distributed_map_events_carry_length_and_map_run_arn() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {
                        "Mode": "DISTRIBUTED",
                        "ExecutionType": "EXPRESS",
                    },
                    "StartAt": "I",
                    "States": {"I": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }
    outcome = run(definition, [1, 2, 3])
    by_type = {e["type"]: e for e in outcome.events}
    assert by_type["MapStateStarted"]["mapStateStartedEventDetails"] == {"length": 3}
    assert by_type["MapRunStarted"]["mapRunStartedEventDetails"] == {
        "mapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:sm/M:run-1"
    }
    assert "MapIterationStarted" not in by_type
    # Observed on AWS: both MapStateSucceeded and MapStateExited point at MapRunSucceeded.
    run_succeeded = by_type["MapRunSucceeded"]["id"]
    assert by_type["MapStateSucceeded"]["previousEventId"] == run_succeeded
    assert by_type["MapStateExited"]["previousEventId"] == run_succeeded


def test_history_over_the_event_limit_fails_the_execution() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "I",
                    "States": {"I": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }
    outcome = run(
        definition, list(range(10)), options=EngineOptions(max_history_events=20)
    )
    assert isinstance(outcome, Failed)
    assert (outcome.error, outcome.cause) == (
        "States.Runtime",
        "The execution history exceeded the limit of 20 events.",
    )
