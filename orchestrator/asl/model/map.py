"""The Map state and its Distributed Map parts (spec 2, 5.2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
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


class InputType(str, Enum):
    """``ReaderConfig.InputType``: how the object (or each listed object) is parsed."""

    CSV = "CSV"
    JSON = "JSON"
    JSONL = "JSONL"
    PARQUET = "PARQUET"
    MANIFEST = "MANIFEST"


class ReaderTransformation(str, Enum):
    """``ReaderConfig.Transformation`` of an ``s3:listObjectsV2`` reader."""

    NONE = "NONE"
    LOAD_AND_FLATTEN = "LOAD_AND_FLATTEN"


class ManifestType(str, Enum):
    """``ReaderConfig.ManifestType``: an S3 Inventory or an Athena UNLOAD manifest."""

    S3_INVENTORY = "S3_INVENTORY"
    ATHENA_DATA = "ATHENA_DATA"


class CsvHeaderLocation(str, Enum):
    """``ReaderConfig.CSVHeaderLocation``: the first record, or ``CSVHeaders``."""

    FIRST_ROW = "FIRST_ROW"
    GIVEN = "GIVEN"


class CsvDelimiter(str, Enum):
    """``ReaderConfig.CSVDelimiter``; :attr:`char` is the character it names."""

    COMMA = "COMMA"
    PIPE = "PIPE"
    SEMICOLON = "SEMICOLON"
    SPACE = "SPACE"
    TAB = "TAB"

    @property
    def char(self) -> str:
        """The separator character."""
        return _DELIMITER_CHARS[self.value]


_DELIMITER_CHARS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


@dataclass(frozen=True, slots=True)
class ReaderConfig:
    """ItemReader.ReaderConfig, typed (spec 2.2, 2.3).

    Parsed once from the definition; ``max_items`` holds a literal ``MaxItems`` there and the
    resolved value (``MaxItems`` expression or ``MaxItemsPath``) in a run's
    :class:`~orchestrator.asl.ports.ItemReaderRequest`. It is an ``int`` after validation; a
    negative value (from ``MaxItemsPath``) is passed on and fails the Map Run when read, as
    on AWS. ``None`` means the field is absent.
    """

    input_type: InputType | None = None
    transformation: ReaderTransformation = ReaderTransformation.NONE
    manifest_type: ManifestType | None = None
    csv_header_location: CsvHeaderLocation = CsvHeaderLocation.FIRST_ROW
    csv_headers: tuple[str, ...] | None = None
    csv_delimiter: CsvDelimiter = CsvDelimiter.COMMA
    items_pointer: str | None = None
    max_items: int | None = None


@dataclass(frozen=True, slots=True)
class ItemReader:
    """ItemReader: a Resource, Parameters resolved against the effective input, ReaderConfig.

    ``max_items`` is ``ReaderConfig.MaxItems`` when it is a JSONata expression and
    ``max_items_path`` the compiled ``ReaderConfig.MaxItemsPath`` (both resolved at run time
    into the run's ``ReaderConfig.max_items``).
    """

    resource: str
    parameters: Template | JsonataTemplate | None
    reader_config: ReaderConfig
    max_items: JsonataTemplate | None = None
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
