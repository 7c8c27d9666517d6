"""Parsing of the Map state and its Distributed Map parts (ItemReader, ItemBatcher, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from orchestrator.asl.model import (
    INLINE,
    ItemBatcher,
    ItemReader,
    MapState,
    ProcessorConfig,
    ResultWriter,
    State,
)

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
    processor = parser.machine(processor_json, f"{path}/{key}", ql)
    selector_key = "ItemSelector" if "ItemSelector" in raw else "Parameters"
    item_selector = parser._template(raw, selector_key, path)
    io = parser._io(raw, path, params=False, results=True)
    items_path = parser._path(raw, "ItemsPath", path)
    if items_path is not None and items_path.text == "$":
        items_path = None
    reader = None
    if isinstance(raw.get("ItemReader"), Mapping):
        rr = raw["ItemReader"]
        cfg = rr.get("ReaderConfig") or {}
        reader = ItemReader(
            resource=rr.get("Resource", ""),
            parameters=parser._template(rr, "Parameters", f"{path}/ItemReader"),
            reader_config=cfg,
            max_items=cfg.get("MaxItems"),
            max_items_path=parser._ref(
                cfg, "MaxItemsPath", f"{path}/ItemReader/ReaderConfig"
            ),
        )
    batcher = None
    if isinstance(raw.get("ItemBatcher"), Mapping):
        br = raw["ItemBatcher"]
        bpath = f"{path}/ItemBatcher"
        batcher = ItemBatcher(
            max_items_per_batch=br.get("MaxItemsPerBatch"),
            max_items_per_batch_path=parser._ref(br, "MaxItemsPerBatchPath", bpath),
            max_input_bytes_per_batch=br.get("MaxInputBytesPerBatch"),
            max_input_bytes_per_batch_path=parser._ref(
                br, "MaxInputBytesPerBatchPath", bpath
            ),
            batch_input=parser._template(br, "BatchInput", bpath),
        )
    writer = None
    if isinstance(raw.get("ResultWriter"), Mapping):
        wr = raw["ResultWriter"]
        writer = ResultWriter(
            resource=wr.get("Resource"),
            parameters=parser._template(wr, "Parameters", f"{path}/ResultWriter"),
            writer_config=wr.get("WriterConfig"),
        )
    percentage = raw.get("ToleratedFailurePercentage")
    return MapState(
        io=io,
        processor=processor,
        processor_config=config,
        processor_raw=processor_raw,
        items_path=items_path,
        item_selector=item_selector,
        item_selector_raw=raw.get(selector_key),
        max_concurrency=raw.get("MaxConcurrency", 0),
        max_concurrency_path=parser._ref(raw, "MaxConcurrencyPath", path),
        item_reader=reader,
        item_batcher=batcher,
        result_writer=writer,
        tolerated_failure_count=raw.get("ToleratedFailureCount"),
        tolerated_failure_count_path=parser._ref(
            raw, "ToleratedFailureCountPath", path
        ),
        tolerated_failure_percentage=float(percentage)
        if percentage is not None
        else None,
        tolerated_failure_percentage_path=parser._ref(
            raw, "ToleratedFailurePercentagePath", path
        ),
        label=raw.get("Label"),
        retry=parser._retry(raw, path),
        catch=parser._catch(raw, path),
        **common,
    )
