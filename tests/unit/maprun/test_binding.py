"""What a state machine's stepmap tags bind a Map Run to (pure; docs/limits.md)."""

from __future__ import annotations

import pytest

from orchestrator.asl import StatesError
from orchestrator.executions.binding import (
    BindingError,
    MapRunBinding,
    binding_from_tags,
    check_tags,
    checked_request,
    with_request,
)
from tests.maprun_world import EXECUTION, World, request


def tags(**values: str) -> list[dict[str, str]]:
    return [{"key": k.replace("__", ":"), "value": v} for k, v in values.items()]


def test_general_tags_bind_every_map_state() -> None:
    binding = binding_from_tags(tags(stepmap__pools="db, api", stepmap__itemsPerSecond="500",
                                     owner="team"), "Process")
    assert binding == MapRunBinding(pools=("db", "api"), items_per_second=500.0)


def test_a_per_state_tag_wins_over_the_general_one() -> None:
    given = tags(stepmap__pools="db", stepmap__pools__Fan="api",
                 stepmap__childrenPerSecond="5", stepmap__childrenPerSecond__Fan="0")
    assert binding_from_tags(given, "Fan") == MapRunBinding(pools=("api",))
    assert binding_from_tags(given, "Other") == MapRunBinding(pools=("db",),
                                                              children_per_second=5.0)


@pytest.mark.parametrize(("key", "value", "named"), [
    ("stepmap:itemsPerSecond", "fast", "stepmap:itemsPerSecond"),
    ("stepmap:childrenPerSecond:Map", "-1", "stepmap:childrenPerSecond:Map"),
    ("stepmap:itemsPerSecond", "nan", "stepmap:itemsPerSecond"),
    ("stepmap:pools", "db,no/slash", "no/slash"),
])
def test_unusable_values_are_refused_naming_the_tag_and_value(key: str, value: str,
                                                               named: str) -> None:
    with pytest.raises(BindingError, match=named):
        check_tags([{"key": key, "value": value}])
    with pytest.raises(BindingError, match=named):
        binding_from_tags([{"key": key, "value": value}], "Map")


def test_other_tags_are_left_alone() -> None:
    check_tags([{"key": "stepmapish", "value": "x"}, {"key": "stepmap:other", "value": "x"}])


def test_a_map_run_bound_to_a_pool_that_does_not_exist_fails_to_start() -> None:
    world = World()
    with pytest.raises(StatesError) as failed:
        world.coordinator.start(request([1, 2]), EXECUTION, MapRunBinding(pools=("db",)))
    assert failed.value.error == "States.Runtime" and "'db'" in failed.value.cause
    assert world.store.open_runs() == []


def test_an_explicit_binding_replaces_only_the_members_it_gives() -> None:
    from_tags = MapRunBinding(pools=("db",), items_per_second=100.0, children_per_second=4.0)
    explicit = checked_request({"pools": ["api"], "itemsPerSecond": 0})
    assert explicit == {"pools": ["api"], "itemsPerSecond": 0.0}
    assert with_request(from_tags, explicit) == MapRunBinding(pools=("api",),
                                                              children_per_second=4.0)


@pytest.mark.parametrize(("value", "named"), [
    (["db"], "must be an object"),
    ({"pools": "db"}, "stepmapBinding.pools"),
    ({"childrenPerSecond": True}, "stepmapBinding.childrenPerSecond"),
    ({"rate": 1}, "unknown member(s) rate"),
])
def test_unusable_explicit_bindings_are_refused_naming_the_member(value: object,
                                                                  named: str) -> None:
    with pytest.raises(BindingError) as refused:
        checked_request(value)
    assert named in str(refused.value)
