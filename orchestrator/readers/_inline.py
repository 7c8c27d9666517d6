"""Items taken from the state input (no ItemReader; ItemsPath/Items already applied).

An array yields its elements unchanged. An object yields one item per key/value pair
in key order of the document; decision (spec §2.2/§8.5, unverified): the item value is
the entry's *value*, and the key is exposed as ``$$.Map.Item.Key``. Anything else fails
with ``States.ItemReaderFailed`` and the cause AWS uses for a non-iterable items node.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import islice
from typing import Any

from orchestrator.asl.errors import ItemReaderFailed
from orchestrator.readers._base import STATE_DATA, Item, Reader
from orchestrator.readers._json import NON_ITERABLE_CAUSE


class InlineItems(Reader):
    """Items of a state-input array or object.

    Args:
        items: the array or object selected by ItemsPath (or JSONata ``Items``).
        index: index of the first item to yield (resume).
    """

    def __init__(self, items: Any, *, index: int = 0) -> None:
        if not isinstance(items, (list, tuple, Mapping)):
            raise ItemReaderFailed(NON_ITERABLE_CAUSE)
        self._items = items
        self._next = index

    def cursor(self) -> dict[str, Any]:
        """``{"index": n}``: the next item's index."""
        return {"index": self._next}

    def _generate(self) -> Iterator[Item]:
        items = self._items
        if isinstance(items, Mapping):
            for key, value in islice(items.items(), self._next, None):
                index = self._next
                self._next = index + 1
                yield Item(index, value, STATE_DATA, str(key))
            return
        for index in range(self._next, len(items)):
            self._next = index + 1
            yield Item(index, items[index], STATE_DATA)
