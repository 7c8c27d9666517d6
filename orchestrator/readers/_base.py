"""The item value object and the small base class every reader builds on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: ``$$.Map.Item.Source`` for items taken from the state input.
STATE_DATA = "STATE_DATA"


@dataclass(frozen=True, slots=True)
class Item:
    """One item of a Map Run's dataset, with the context-object fields that describe it.

    Attributes:
        index: 0-based position in the dataset (``$$.Map.Item.Index``).
        value: the item as spec §2.2 "Item shapes per source" describes it
            (``$$.Map.Item.Value``).
        source: ``$$.Map.Item.Source``: ``STATE_DATA``, ``S3://{bucket}`` (listing) or
            ``S3://{bucket}/{key}`` (the object the item was read from).
        key: ``$$.Map.Item.Key`` when iterating the entries of a state-input object.
    """

    index: int
    value: Any
    source: str
    key: str | None = None


def s3_source(bucket: str, key: str | None = None) -> str:
    """``S3://{bucket}`` or ``S3://{bucket}/{key}`` as AWS spells ``$$.Map.Item.Source``."""
    return f"S3://{bucket}/{key}" if key is not None else f"S3://{bucket}"


class Reader:
    """Base of the readers: one lazily created generator, a cursor, and close().

    Subclasses implement :meth:`_generate` (yielding :class:`Item`) and :meth:`cursor`
    (a JSON-serialisable position right after the last item yielded).
    """

    _gen: Iterator[Any] | None = None
    #: Whether items can nest arrays and objects (and so need the depth check of
    #: ``readers._depth``); readers whose items are flat by construction (CSV rows, object
    #: listings) say False and skip it: it cost a third of the feeder's time on CSV.
    nested_items: bool = True

    def __iter__(self) -> Iterator[Item]:
        if self._gen is None:
            self._gen = self._generate()
        return self._gen

    def _generate(self) -> Iterator[Item]:  # pragma: no cover - abstract
        raise NotImplementedError

    def cursor(self) -> dict[str, Any]:  # pragma: no cover - abstract
        """Position after the last item yielded."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop reading and release the S3 connection, if any."""
        gen = self._gen
        if gen is not None and hasattr(gen, "close"):
            gen.close()
