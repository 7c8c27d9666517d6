"""ItemSelector and ItemBatcher: items in, child inputs out (spec 2.4, 2.5).

Decision (spec 8.4, unverified): MaxInputBytesPerBatch bounds the serialised size of the
whole child input, ``{"Items": [...], "BatchInput": ...}`` in compact JSON (UTF-8 bytes). An
item that alone exceeds the bound still forms a batch of its own (its child then fails on
the payload limit rather than the item being dropped).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from orchestrator.jsontext import batch_of_values, batch_suffix, batch_text, dumps
from orchestrator.maprun.plan import BatchRule



@dataclass(frozen=True, slots=True)
class Batch:
    """One child input: its JSON text, the number of items it carries, and the next cursor."""

    input_json: str
    items: int


class Batcher:
    """Groups selected items into child inputs, in dataset order.

    With only MaxItemsPerBatch, items are kept as values and each batch is serialised once
    (a third of the feeder's time went to serialising rows one by one); with
    MaxInputBytesPerBatch each item is serialised on arrival to measure it. With ``texts``
    the items arrive already serialised (:meth:`add_text`, a reader that writes JSON) and a
    batch is their concatenation.
    """

    def __init__(self, rule: BatchRule | None, *, texts: bool = False) -> None:
        self.enabled = rule is not None
        self.max_items = rule.max_items if rule is not None else None
        self.max_bytes = rule.max_bytes if rule is not None else None
        batch_input = rule.batch_input if rule is not None else None
        self.suffix = batch_suffix(batch_input)
        self._texts = texts or self.max_bytes is not None
        self._items: list[Any] = []
        self._size = 0

    def _envelope_size(self, items_bytes: int, count: int) -> int:
        # {"Items":[ a,b,c ]<suffix>}
        return len('{"Items":[]}') + items_bytes + max(0, count - 1) + len(self.suffix.encode())

    def add(self, value: Any) -> Iterator[Batch]:
        """Add one selected item; yields the batches this closes."""
        if self._texts:
            yield from self.add_text(dumps(value))
            return
        if not self.enabled:
            yield Batch(dumps(value), 1)
            return
        self._items.append(value)
        if self.max_items is not None and len(self._items) >= self.max_items:
            yield self._close()

    def add_texts(self, texts: list[str]) -> list[Batch]:
        """Add items given as their compact JSON texts; returns the batches they close.

        With MaxItemsPerBatch alone the texts are cut into batches by slicing (a fast
        reader's whole per-item cost is then one list slot and its share of a join).
        """
        if not self.max_items or self.max_bytes is not None:
            return [batch for text in texts for batch in self.add_text(text)]
        closed: list[Batch] = []
        items = self._items
        size = self.max_items
        start = 0
        if items:
            start = min(len(texts), size - len(items))
            items.extend(texts[:start])
            if len(items) < size:
                return closed
            closed.append(self._close())
        end = len(texts)
        while end - start >= size:
            closed.append(self._batch(texts[start:start + size]))
            start += size
        self._items = texts[start:]
        return closed

    def add_text(self, text: str) -> Iterator[Batch]:
        """Add one item given as its compact JSON text; yields the batches this closes."""
        if not self.enabled:
            yield Batch(text, 1)
            return
        if self.max_bytes is not None:
            size = len(text.encode())
            if self._items and (
                self._envelope_size(self._size + size, len(self._items) + 1) > self.max_bytes
            ):
                yield self._close()
            self._size += size
        self._items.append(text)
        if self.max_items is not None and len(self._items) >= self.max_items:
            yield self._close()

    def flush(self) -> Iterator[Batch]:
        """The last, partial batch (if any)."""
        if self.enabled and self._items:
            yield self._close()

    @property
    def carried(self) -> list[str]:
        """Items of the open batch as JSON (persisted with the cursor: a restart loses none)."""
        if self._texts:
            return list(self._items)
        return [dumps(v) for v in self._items]

    def restore(self, items: list[str]) -> None:
        """Reopen a batch persisted by :attr:`carried`."""
        if self._texts:
            self._items = list(items)
            self._size = sum(len(i.encode()) for i in items)
        else:
            self._items = [json.loads(i) for i in items]

    def _close(self) -> Batch:
        if self._texts:
            batch = self._batch(self._items)
        else:
            batch = Batch(batch_of_values(self._items, self.suffix), len(self._items))
        self._items = []
        self._size = 0
        return batch

    def _batch(self, texts: list[str]) -> Batch:
        return Batch(batch_text(texts, self.suffix), len(texts))
