"""The engine's Distributed Map request, read once into typed values.

The engine resolves ``ItemBatcher`` and ``ResultWriter`` against the Map state's input and
hands them over in their ASL (PascalCase) shape inside a
:class:`~orchestrator.asl.DistributedMapRequest`. This module is the one place of the Map Run
that reads those names; the feeder and the finalizer work on :class:`BatchRule` and
:class:`ResultDestination`. (The ItemReader arrives typed, as the engine's
:class:`~orchestrator.asl.ItemReaderRequest`, and goes to ``orchestrator.readers`` as it is.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.asl import DistributedMapRequest


@dataclass(frozen=True, slots=True)
class BatchRule:
    """ItemBatcher: at most ``max_items`` items and/or ``max_bytes`` of input per child."""

    max_items: int | None = None
    max_bytes: int | None = None
    batch_input: Any = None

    @classmethod
    def of(cls, config: Mapping[str, Any] | None) -> BatchRule | None:
        """The rule of a resolved ``ItemBatcher`` (``None``: no batching)."""
        if not config:
            return None
        return cls(max_items=config.get("MaxItemsPerBatch") or None,
                   max_bytes=config.get("MaxInputBytesPerBatch") or None,
                   batch_input=config.get("BatchInput"))


@dataclass(frozen=True, slots=True)
class ResultDestination:
    """ResultWriter: where result files go (``bucket`` None: transformed inline output only).

    ``writer_config`` stays in its ASL shape: the result writer validates and applies it.
    """

    bucket: str | None
    prefix: str | None
    writer_config: Mapping[str, Any] | None

    @property
    def transformation(self) -> str:
        """``WriterConfig.Transformation`` (NONE, COMPACT or FLATTEN)."""
        return str((self.writer_config or {}).get("Transformation", "NONE"))

    @classmethod
    def of(cls, writer: Mapping[str, Any] | None) -> ResultDestination | None:
        """The destination of a resolved ``ResultWriter`` (``None``: results inline)."""
        if not writer:
            return None
        params = writer.get("Parameters") or {}
        bucket = params.get("Bucket") if writer.get("Resource") else None
        if bucket is None and not writer.get("WriterConfig"):
            return None
        return cls(bucket=bucket, prefix=params.get("Prefix"),
                   writer_config=writer.get("WriterConfig"))


@dataclass(frozen=True, slots=True)
class MapRunPlan:
    """What the feeder and the finalizer need from the request, typed."""

    batching: BatchRule | None
    destination: ResultDestination | None

    @classmethod
    def of(cls, request: DistributedMapRequest) -> MapRunPlan:
        """Read the request once."""
        return cls(batching=BatchRule.of(request.batcher),
                   destination=ResultDestination.of(request.result_writer))
