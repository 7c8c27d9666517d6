"""Immutable model of a parsed state machine (frozen dataclasses with slots)."""

from __future__ import annotations

from orchestrator.asl.model.io import DEFAULT_IO, StateIO
from orchestrator.asl.model.machine import StateMachine
from orchestrator.asl.model.map import (
    DISTRIBUTED,
    INLINE,
    CsvDelimiter,
    CsvHeaderLocation,
    InputType,
    ItemBatcher,
    ItemReader,
    ManifestType,
    MapState,
    ProcessorConfig,
    ReaderConfig,
    ReaderTransformation,
    ResultWriter,
)
from orchestrator.asl.model.retry_catch import Catcher, Retrier, error_matches
from orchestrator.asl.model.states import (
    JSONATA,
    JSONPATH,
    ChoiceBranch,
    ChoiceState,
    FailState,
    ParallelState,
    PassState,
    State,
    SucceedState,
    TaskState,
    WaitState,
)

__all__ = [
    "DEFAULT_IO",
    "DISTRIBUTED",
    "INLINE",
    "JSONATA",
    "JSONPATH",
    "Catcher",
    "ChoiceBranch",
    "ChoiceState",
    "CsvDelimiter",
    "CsvHeaderLocation",
    "FailState",
    "InputType",
    "ItemBatcher",
    "ItemReader",
    "ManifestType",
    "MapState",
    "ParallelState",
    "PassState",
    "ProcessorConfig",
    "ReaderConfig",
    "ReaderTransformation",
    "ResultWriter",
    "Retrier",
    "State",
    "StateIO",
    "StateMachine",
    "SucceedState",
    "TaskState",
    "WaitState",
    "error_matches",
]
