"""Parsing of the Map state and its Distributed Map parts (ItemReader, ItemBatcher, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from orchestrator.asl.model import (
    INLINE,
    JSONATA,
    ItemBatcher,
    ItemReader,
    MapState,
    ProcessorConfig,
    ResultWriter,
    State,
)

from orchestrator.asl._jsonata import JsonataTemplate
from orchestrator.asl._reader_config import reader_config_of

if TYPE_CHECKING:
    from orchestrator.asl.parse import _Parser


def parse_map(
    parser: _Parser, raw: Mapping[str, Any], path: str, common: dict[str, Any], ql: str
) -> State:
    """Build a :class:`MapState` (inline or distributed) from its JSON.

    The ItemProcessor (or legacy Iterator) is parsed as its own StateMachine without
    ProcessorConfig; ItemSelector (or legacy Parameters), the ItemReader/ItemBatcher/
    ResultWriter templates and every ``...Path`` field are compiled here, once.
    """
    key = "ItemProcessor" if "ItemProcessor" in raw else "Iterator"
    processor_raw = raw.get(key)
    if not isinstance(processor_raw, Mapping):
        parser._fail(
            f"{path}/ItemProcessor", "A Map state needs an ItemProcessor object"
        )
    config_raw = processor_raw.get("ProcessorConfig") or {}
    config = ProcessorConfig(
        mode=config_raw.get("Mode", INLINE),
        execution_type=config_raw.get("ExecutionType"),
    )
    processor_json = {k: v for k, v in processor_raw.items() if k != "ProcessorConfig"}
    processor = parser.machine(processor_json, f"{path}/{key}", parser.top_ql)
    selector_key = "ItemSelector" if "ItemSelector" in raw else "Parameters"
    item_selector = parser._value(raw, selector_key, path, ql)
    io = parser._io(raw, path, params=False, results=True, ql=ql)
    # JSONata: Items (default: the state input) and the Arguments of reader and writer.
    items = parser._jsonata(raw, "Items", path) if ql == JSONATA else None
    args = "Arguments" if ql == JSONATA else "Parameters"
    items_path = parser._path(raw, "ItemsPath", path)
    if items_path is not None and items_path.text == "$":
        items_path = None
    reader = None
    if isinstance(raw.get("ItemReader"), Mapping):
        rr = raw["ItemReader"]
        cfg = rr.get("ReaderConfig") or {}
        max_items = parser._maybe_jsonata(cfg, "MaxItems", f"{path}/ItemReader/ReaderConfig")
        reader = ItemReader(
            resource=rr.get("Resource", ""),
            parameters=parser._value(rr, args, f"{path}/ItemReader", ql),
            reader_config=reader_config_of(cfg),
            max_items=max_items if isinstance(max_items, JsonataTemplate) else None,
            max_items_path=parser._ref(
                cfg, "MaxItemsPath", f"{path}/ItemReader/ReaderConfig"
            ),
        )
    batcher = None
    if isinstance(raw.get("ItemBatcher"), Mapping):
        br = raw["ItemBatcher"]
        bpath = f"{path}/ItemBatcher"
        batcher = ItemBatcher(
            max_items_per_batch=parser._maybe_jsonata(br, "MaxItemsPerBatch", bpath),
            max_items_per_batch_path=parser._ref(br, "MaxItemsPerBatchPath", bpath),
            max_input_bytes_per_batch=parser._maybe_jsonata(br, "MaxInputBytesPerBatch", bpath),
            max_input_bytes_per_batch_path=parser._ref(
                br, "MaxInputBytesPerBatchPath", bpath
            ),
            batch_input=parser._value(br, "BatchInput", bpath, ql),
        )
    writer = None
    if isinstance(raw.get("ResultWriter"), Mapping):
        wr = raw["ResultWriter"]
        writer = ResultWriter(
            resource=wr.get("Resource"),
            parameters=parser._value(wr, args, f"{path}/ResultWriter", ql),
            writer_config=wr.get("WriterConfig"),
        )
    percentage = parser._maybe_jsonata(raw, "ToleratedFailurePercentage", path)
    if isinstance(percentage, (int, float)):
        percentage = float(percentage)
    return MapState(
        io=io,
        processor=processor,
        processor_config=config,
        processor_raw=processor_raw,
        items_path=items_path,
        items=items,
        item_selector=item_selector,
        item_selector_raw=raw.get(selector_key),
        max_concurrency=parser._maybe_jsonata(raw, "MaxConcurrency", path) or 0,
        max_concurrency_path=parser._ref(raw, "MaxConcurrencyPath", path),
        item_reader=reader,
        item_batcher=batcher,
        result_writer=writer,
        tolerated_failure_count=parser._maybe_jsonata(raw, "ToleratedFailureCount", path),
        tolerated_failure_count_path=parser._ref(
            raw, "ToleratedFailureCountPath", path
        ),
        tolerated_failure_percentage=percentage,
        tolerated_failure_percentage_path=parser._ref(
            raw, "ToleratedFailurePercentagePath", path
        ),
        label=raw.get("Label"),
        retry=parser._retry(raw, path),
        catch=parser._catch(raw, path, ql),
        **common,
    )
