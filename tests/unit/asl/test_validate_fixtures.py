"""validate_definition on whole definitions kept as files under tests/fixtures/asl/.

Every file in ``valid/`` (including the worked examples of spec section 7, wrapped into
minimal machines) must validate cleanly; every file in ``invalid/`` is named after the
behaviour it shows and must report exactly the problems listed here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.asl._validate import validate_definition

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "asl"
SCHEMA = "SCHEMA_VALIDATION_FAILED"
TARGET = "MISSING_TRANSITION_TARGET"


def read(name: str) -> str:
    """The text of a fixture definition (``valid/x`` or ``invalid/x``, no extension)."""
    return (FIXTURES / f"{name}.json").read_text(encoding="utf-8")


VALID = sorted(p.stem for p in (FIXTURES / "valid").glob("*.json"))

INVALID: dict[str, list[tuple[str, str]]] = {
    "distributed_map_without_execution_type": [
        ("/States/Big/ItemProcessor/ProcessorConfig", SCHEMA)],
    "distributed_map_inside_express_children": [
        ("/States/Outer/ItemProcessor/States/Inner/ItemProcessor/ProcessorConfig/Mode", SCHEMA)],
    "duplicate_state_name_in_json_text": [("/States/A", "DUPLICATE_STATE_NAME")],
    "duplicate_state_name_across_scopes": [
        ("/States/Fan/Branches/1/States/Step", "DUPLICATE_STATE_NAME")],
    "duplicate_distributed_map_label": [("/States/Second/Label", "DUPLICATE_LABEL_NAME")],
    "transition_out_of_parallel_branch": [
        ("/States/Fan/Branches/0/States/Inside/Next", TARGET),
        ("/States/Fan/Branches/0", "MISSING_END_STATE")],
    "loop_without_terminal_state": [("", "MISSING_END_STATE")],
    "unreachable_state": [("/States/Orphan", TARGET)],
    "jsonata_machine_with_jsonpath_state": [("/States/A", SCHEMA)],
    "several_problems": [
        ("", SCHEMA),
        ("/States/Start/TimeoutSeconds", SCHEMA),
        ("/States/Big/ItemProcessor/ProcessorConfig", SCHEMA),
        ("/States/Big/Label", "INVALID_LABEL_NAME"),
        ("/States/Big/ItemBatcher/MaxItemsPerBatch", SCHEMA),
        ("/States/Big/ResultWriter", SCHEMA),
        ("/States/Big/ItemProcessor/States/Child", SCHEMA),
        ("/States/Start/Next", TARGET),
        ("/States/Big", TARGET),
    ],
}


@pytest.mark.parametrize("name", VALID)
def test_valid_fixture_has_no_problems(name: str) -> None:
    assert validate_definition(read(f"valid/{name}")) == []


def test_every_invalid_fixture_has_expectations() -> None:
    files = sorted(p.stem for p in (FIXTURES / "invalid").glob("*.json"))

    assert files == sorted(INVALID)


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_fixture_reports_exactly_its_problems(name: str) -> None:
    problems = validate_definition(read(f"invalid/{name}"))

    assert [(p.path, p.code) for p in problems] == INVALID[name]


def test_several_problems_are_all_reported_with_readable_messages() -> None:
    messages = [p.message for p in validate_definition(read("invalid/several_problems"))]

    assert messages == [
        "Field 'Colour' is not supported",
        "Field 'TimeoutSeconds' of state 'Start' must be an integer between 1 and 99999999, "
        "got 0",
        "Missing required field 'ExecutionType' of state 'Big': it is required when Mode is "
        "DISTRIBUTED",
        "Field 'Label' of state 'Big' contains forbidden characters \" \", got \"bad label\"",
        "Field 'MaxItemsPerBatch' of state 'Big' must be a positive integer, got 0",
        "Field 'ResultWriter' of state 'Big' must not be empty: give 'Resource' with "
        "'Parameters'/'Arguments', 'WriterConfig', or both",
        "State 'Child' must have exactly one of 'Seconds', 'Timestamp', 'SecondsPath' or "
        "'TimestampPath', got []",
        "Missing 'Next' target: Nowhere",
        'State "Big" is not reachable.',
    ]


def test_valid_fixtures_are_also_valid_in_express_machines_unless_distributed() -> None:
    text = read("valid/choice_every_operator")

    assert validate_definition(text, machine_type="EXPRESS") == []


def test_large_definition_validates_without_problems() -> None:
    # 200 chained states with paths and templates: the shape a fast validator must handle.
    states = {
        f"S{i}": {"Type": "Pass", "Parameters": {"v.$": f"$.a{i}", "c.$": "$$.Execution.Id"},
                  "ResultPath": f"$.r{i}", "Next": f"S{i + 1}"}
        for i in range(199)
    }
    states["S199"] = {"Type": "Succeed"}

    assert validate_definition({"StartAt": "S0", "States": states}) == []


def test_distributed_maps_with_distinct_labels_are_valid() -> None:
    document = json.loads(read("invalid/duplicate_distributed_map_label"))
    document["States"]["Second"]["Label"] = "Other"

    assert validate_definition(document) == []


def test_distributed_map_inside_standard_children_is_valid() -> None:
    document = json.loads(read("invalid/distributed_map_inside_express_children"))
    document["States"]["Outer"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = "STANDARD"

    assert validate_definition(document) == []


def test_parallel_branches_with_distinct_state_names_are_valid() -> None:
    document = json.loads(read("invalid/duplicate_state_name_across_scopes"))
    document["States"]["Fan"]["Branches"][1] = {
        "StartAt": "Other", "States": {"Other": {"Type": "Pass", "End": True}}}

    assert validate_definition(document) == []


_ODD_VALUES: list[object] = [None, True, 0, -1, 1.5, "", "x", "$.a[", "States.Format(", "{% x %}",
                             [], [1], {}, {"a.$": 3}, {"Type": "Pass"}]


def _node_paths(document: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [path]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _node_paths(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += _node_paths(value, (*path, index))
    return found


@pytest.mark.parametrize("name", ["jsonpath_every_state_type", "jsonata_every_state_type"])
def test_validation_reports_instead_of_raising_on_odd_values(name: str) -> None:
    # Seeded structural fuzzing: any JSON value anywhere must give problems, never an exception.
    import copy
    import random

    base = json.loads(read(f"valid/{name}"))
    paths = [p for p in _node_paths(base) if p]
    rng = random.Random(7)
    checked = 0
    for _ in range(300):
        document = copy.deepcopy(base)
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(paths)
            node: object = document
            try:
                for key in path[:-1]:
                    node = node[key]  # type: ignore[index]
                node[path[-1]] = copy.deepcopy(rng.choice(_ODD_VALUES))  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                continue  # an earlier change removed the parent of this path
        problems = validate_definition(document, machine_type=rng.choice(["STANDARD", "EXPRESS"]))
        checked += all(p.path == "" or p.path.startswith("/") for p in problems)

    assert checked == 300
