"""The Map state and its Distributed Map parts (spec 2, 5.2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.asl.model.retry_catch import Catcher, Retrier
from orchestrator.asl.model.states import State

if TYPE_CHECKING:
    from orchestrator.asl._jsonata import JsonataTemplate
    from orchestrator.asl._paths import JsonPath, ReferencePath
    from orchestrator.asl._template import Template
    from orchestrator.asl.model.machine import StateMachine

INLINE = "INLINE"
DISTRIBUTED = "DISTRIBUTED"


@dataclass(frozen=True, slots=True)
class ProcessorConfig:
    """ItemProcessor.ProcessorConfig: INLINE (default) or DISTRIBUTED with an ExecutionType."""

    mode: str = INLINE
    execution_type: str | None = None


@dataclass(frozen=True, slots=True)
class ItemReader:
    """ItemReader: a Resource, Parameters resolved against the effective input, ReaderConfig.

    ``max_items_path`` is the compiled ``ReaderConfig.MaxItemsPath`` (resolved at run time).
    """

    resource: str
    parameters: Template | JsonataTemplate | None
    reader_config: Mapping[str, Any]
    max_items: int | JsonataTemplate | None = None
    max_items_path: ReferencePath | None = None


@dataclass(frozen=True, slots=True)
class ItemBatcher:
    """ItemBatcher: batch size bounds (literal or path) and an optional BatchInput template."""

    max_items_per_batch: int | JsonataTemplate | None = None
    max_items_per_batch_path: ReferencePath | None = None
    max_input_bytes_per_batch: int | JsonataTemplate | None = None
    max_input_bytes_per_batch_path: ReferencePath | None = None
    batch_input: Template | JsonataTemplate | None = None


@dataclass(frozen=True, slots=True)
class ResultWriter:
    """ResultWriter: where and how a Distributed Map exports its results."""

    resource: str | None
    parameters: Template | JsonataTemplate | None
    writer_config: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MapState(State):
    """Map: runs ItemProcessor once per item (inline) or as a Map Run (distributed).

    Items come from ItemsPath (default ``$``) or, distributed only, from an ItemReader; each
    item goes through ItemSelector (legacy: Parameters) with ``$$.Map.Item.*`` available; the
    result is the array of iteration outputs in item order (``[]`` for no items).
    """

    processor: StateMachine
    processor_config: ProcessorConfig
    processor_raw: Mapping[str, Any]
    items_path: JsonPath | None = None
    items: JsonataTemplate | None = None
    item_selector: Template | JsonataTemplate | None = None
    item_selector_raw: Any = None
    max_concurrency: int | JsonataTemplate = 0
    max_concurrency_path: ReferencePath | None = None
    item_reader: ItemReader | None = None
    item_batcher: ItemBatcher | None = None
    result_writer: ResultWriter | None = None
    tolerated_failure_count: int | JsonataTemplate | None = None
    tolerated_failure_count_path: ReferencePath | None = None
    tolerated_failure_percentage: float | JsonataTemplate | None = None
    tolerated_failure_percentage_path: ReferencePath | None = None
    label: str | None = None
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()

    @property
    def distributed(self) -> bool:
        """Whether this Map runs as a Distributed Map (a Map Run)."""
        return self.processor_config.mode == DISTRIBUTED
