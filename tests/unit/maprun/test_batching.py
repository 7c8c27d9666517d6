"""ItemBatcher semantics (spec 2.5)."""

from __future__ import annotations

import json

from orchestrator.maprun.batching import Batcher, dumps
from orchestrator.maprun.plan import BatchRule


def _value_batches(config: dict | None, items: list) -> list[tuple[str, int]]:
    batcher = Batcher(BatchRule.of(config))
    out = []
    for item in items:
        out.extend(batcher.add(item))
    out.extend(batcher.flush())
    return [(b.input_json, b.items) for b in out]


def _run(config: dict | None, items: list) -> list[tuple[dict, int]]:
    return [(json.loads(text), n) for text, n in _value_batches(config, items)]


def test_without_batcher_each_item_is_a_child_input() -> None:
    assert _run(None, [{"a": 1}, 2]) == [({"a": 1}, 1), (2, 1)]


def test_batches_are_consecutive_runs_of_max_items() -> None:
    batches = _run({"MaxItemsPerBatch": 100}, list(range(1130)))
    assert [n for _, n in batches] == [100] * 11 + [30]
    assert batches[0][0] == {"Items": list(range(100))}
    assert batches[-1][0] == {"Items": list(range(1100, 1130))}


def test_batch_input_is_added_to_every_batch() -> None:
    batches = _run({"MaxItemsPerBatch": 2, "BatchInput": {"model": "v3"}}, [1, 2, 3])
    assert [b for b, _ in batches] == [
        {"Items": [1, 2], "BatchInput": {"model": "v3"}},
        {"Items": [3], "BatchInput": {"model": "v3"}},
    ]


def test_max_bytes_bounds_the_serialised_child_input() -> None:
    items = [{"k": "x" * 10} for _ in range(10)]  # 18 bytes each; {"Items":[...]} adds 12 + commas
    batches = _run({"MaxInputBytesPerBatch": 60}, items)
    for batch, _ in batches:
        assert len(dumps(batch).encode()) <= 60
    assert sum(n for _, n in batches) == 10
    assert [n for _, n in batches] == [2, 2, 2, 2, 2]


def test_both_limits_reduce_the_item_count_to_fit_the_bytes() -> None:
    batches = _run({"MaxItemsPerBatch": 5, "MaxInputBytesPerBatch": 40}, list(range(100, 110)))
    for batch, n in batches:
        assert n <= 5
        assert len(dumps(batch).encode()) <= 40


def test_an_item_larger_than_the_byte_bound_forms_a_batch_of_its_own() -> None:
    batches = _run({"MaxInputBytesPerBatch": 20}, ["short", "x" * 50, "y"])
    assert [n for _, n in batches] == [1, 1, 1]


def test_open_byte_bounded_batch_survives_a_restart() -> None:
    config = {"MaxItemsPerBatch": 3, "MaxInputBytesPerBatch": 1000}
    first = Batcher(BatchRule.of(config))
    assert list(first.add({"a": 1})) == []
    second = Batcher(BatchRule.of(config))
    second.restore(first.carried)
    assert [json.loads(b.input_json) for b in second.add(2)] == []
    (batch,) = list(second.add(3))
    assert json.loads(batch.input_json) == {"Items": [{"a": 1}, 2, 3]}


def test_open_batch_survives_a_restart() -> None:
    first = Batcher(BatchRule.of({"MaxItemsPerBatch": 3}))
    assert list(first.add(1)) == []
    assert list(first.add(2)) == []
    second = Batcher(BatchRule.of({"MaxItemsPerBatch": 3}))
    second.restore(first.carried)
    (batch,) = list(second.add(3))
    assert json.loads(batch.input_json) == {"Items": [1, 2, 3]}


RULES = [None, {"MaxItemsPerBatch": 3}, {"MaxItemsPerBatch": 3, "BatchInput": {"m": "%s"}},
         {"MaxInputBytesPerBatch": 40}, {"MaxItemsPerBatch": 2, "MaxInputBytesPerBatch": 40}]


def _text_batches(config: dict | None, items: list, *, block: int = 1,
                  restart_at: int | None = None) -> list[tuple[str, int]]:
    """Batches from items given as JSON texts in blocks (a reader that writes JSON);
    optionally restarted (carried batch persisted and restored) before block ``restart_at``."""
    batcher = Batcher(BatchRule.of(config), texts=True)
    out = []
    texts = [dumps(item) for item in items]
    for number, start in enumerate(range(0, len(texts), block)):
        if number == restart_at:
            carried = batcher.carried
            batcher = Batcher(BatchRule.of(config), texts=True)
            batcher.restore(carried)
        out.extend(batcher.add_texts(texts[start:start + block]))
    out.extend(batcher.flush())
    return [(b.input_json, b.items) for b in out]


def test_batches_of_json_texts_are_byte_identical_to_batches_of_values() -> None:
    items = [{"id": str(i), "name": "ü" * (i % 4)} for i in range(11)]
    for config in RULES:
        for block in (1, 2, 3, 4, 7, 50):
            assert _text_batches(config, items, block=block) == _value_batches(config, items), (
                config, block)


def test_open_batch_of_texts_survives_a_restart_into_either_mode() -> None:
    items = [{"id": str(i)} for i in range(8)]
    rule = {"MaxItemsPerBatch": 3}
    for block, restart_at in ((1, 4), (2, 1), (5, 1)):
        assert _text_batches(rule, items, block=block, restart_at=restart_at) == (
            _value_batches(rule, items))
    # A batch carried by the text path reopens in the value path (an ItemSelector-less CSV
    # run resumed by code that reads values) and the other way round.
    texts = Batcher(BatchRule.of(rule), texts=True)
    list(texts.add_text(dumps(items[0])))
    values = Batcher(BatchRule.of(rule))
    values.restore(texts.carried)
    assert values.carried == texts.carried
