"""Runners of the compound states: Parallel, inline Map and Distributed Map.

Branches and inline iterations run concurrently inside this execution (see ``_fork``; their
events go into the parent history, as on AWS). A Distributed Map goes through the MapRunner port:
resolve the ``...Path`` configuration (States.Runtime with AWS's observed causes, no Map
Run), start a Map Run, wait for its result; Retry starts a new Map Run.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from dataclasses import replace
from typing import Any

from orchestrator.asl._io import (
    apply_input_path,
    data_limit,
    effective_input,
    error_details,
    payload_too_large,
    select,
    show_value,
)
from orchestrator.asl._fork import Forks
from orchestrator.asl._jsonata import resolve_number
from orchestrator.asl._jsonata_map import jsonata_items, processor_json, selector_variables
from orchestrator.asl._runtime import RANDOM_KEY, Cursor
from orchestrator.asl._states_simple import Step
from orchestrator.asl.errors import Runtime, StatesError
from orchestrator.asl.model import MapState, ParallelState, StateMachine
from orchestrator.asl.model.map import DISTRIBUTED
from orchestrator.asl.ports import DistributedMapRequest, ItemReaderRequest

#: At most this many inline Map iterations run at once (AWS: "up to 40 concurrent
#: iterations" in Inline mode); a larger MaxConcurrency is capped.
INLINE_MAX_CONCURRENCY = 40

#: Map.Item.Source for items taken from the state input (spec 2.2).
STATE_DATA = "STATE_DATA"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_INTEGER_TEXT = re.compile(r"-?\d+")
_NUMBER_TEXT = re.compile(r"-?\d+(?:\.\d+)?")


def _numeric(value: Any, *, integer: bool = True) -> Any:
    """A ``...Path`` value: a numeric string such as ``"1"`` counts as its number (observed
    on AWS); anything else is returned as it is."""
    if isinstance(value, str):
        if _INTEGER_TEXT.fullmatch(value):
            return int(value)
        if not integer and _NUMBER_TEXT.fullmatch(value):
            return float(value)
    return value


class CompoundStates(Forks):
    """Parallel and Map."""

    @abstractmethod
    def run_states(self, machine: StateMachine, data: Any, cur: Cursor) -> Any:
        """Run a (sub-)machine to its end and return its output."""

    # -- Parallel -------------------------------------------------------------------------

    def run_parallel(self, st: ParallelState, raw: Any, cur: Cursor) -> Step:
        """Parallel: every branch gets the same input; outputs in branch order."""
        entered = self.entered(cur, st, raw)
        entered_time = self.now() if st.io.uses_context else None

        def attempt(retry_count: int) -> Any:
            io = st.io
            ctx = None
            if entered_time is not None:
                ctx = self.context(st.name, entered_time, retry_count)
            data = effective_input(io, raw, ctx)
            self.emit(cur, "ParallelStateStarted")
            branches = st.branches
            variables = self.variables

            def branch(index: int, branch_cur: Cursor) -> Any:
                # Each branch reads the outer variables; its own stay in its scope.
                variables.enter_child()
                try:
                    return self.run_states(branches[index], data, branch_cur)
                finally:
                    variables.leave_child()

            try:
                results = self.fork(cur, len(branches), 0, branch)
            except StatesError:
                self.emit(cur, "ParallelStateFailed")
                raise
            self.emit(cur, "ParallelStateSucceeded")
            return self.finish_attempt(st, raw, results, ctx, cur)  # $: the branch outputs

        return self.with_retry(st, st.retry, st.catch, raw, cur, entered, attempt)

    # -- Map ------------------------------------------------------------------------------

    def run_map(self, st: MapState, raw: Any, cur: Cursor) -> Step:
        """Map: inline iterations, or a Map Run through the MapRunner port."""
        entered = self.entered(cur, st, raw)
        entered_time = self.now()

        def attempt(retry_count: int) -> Any:
            ctx = self.context(st.name, entered_time, retry_count)
            data = apply_input_path(st.io, raw, ctx)
            if st.processor_config.mode == DISTRIBUTED:
                result = self._distributed(st, data, ctx, cur)
            else:
                result = self._inline(st, data, ctx, cur)
            return self.finish_attempt(st, raw, result, ctx, cur)  # $: the iteration outputs

        return self.with_retry(st, st.retry, st.catch, raw, cur, entered, attempt)

    def _items(self, st: MapState, data: Any, ctx: dict[str, Any]) -> Any:
        if st.io.jsonata:
            return jsonata_items(st, data, ctx)
        items = data if st.items_path is None else select(st.items_path, data, ctx)
        if not isinstance(items, (list, dict)):
            # Decision (cause unverified): name the path and what it selected.
            path = st.items_path.text if st.items_path is not None else "$"
            raise Runtime(
                f"Invalid path '{path}': The Map state's ItemsPath must select a JSON array or "
                f'object, but it selected the value "{show_value(items)}"'
            )
        return items

    def _inline(self, st: MapState, data: Any, ctx: dict[str, Any], cur: Cursor) -> Any:
        items = self._items(st, data, ctx)
        # A JSONata MaxConcurrency is evaluated here (and must give a non-negative integer).
        limit = int(resolve_number(st.max_concurrency, data, ctx) or 0)
        if st.max_concurrency_path is not None:
            limit = self._non_negative_int(st.max_concurrency_path, data, ctx, "MaxConcurrency")
        # AWS runs at most 40 inline iterations at once; 0 means "as many as allowed".
        limit = INLINE_MAX_CONCURRENCY if limit <= 0 else min(limit, INLINE_MAX_CONCURRENCY)
        self.emit(
            cur,
            "MapStateStarted",
            "mapStateStartedEventDetails",
            {"length": len(items)} if self.history else None,
        )
        pairs: list[tuple[Any, Any]] = (
            list(items.items()) if isinstance(items, dict) else list(enumerate(items))
        )
        keyed = isinstance(items, dict)
        variables = self.variables

        def iteration(position: int, iteration_cur: Cursor) -> Any:
            key, value = pairs[position]
            item_input = value
            if st.item_selector is not None:
                # Inline Map: Index and Value (Key for object input); Source is a
                # Distributed Map notion (spec 2.2) and is left to the Map Run.
                map_item: dict[str, Any] = {"Index": position, "Value": value}
                if keyed:
                    map_item["Key"] = key
                item_ctx = dict(ctx)
                item_ctx["Map"] = {"Item": map_item}
                # Random draws (States.UUID, MathRandom) go to this iteration's journal.
                item_ctx[RANDOM_KEY] = self.random_source()
                item_input = st.item_selector.evaluate(data, item_ctx)
            details = {"name": st.name, "index": position} if self.history else None
            self.emit(
                iteration_cur, "MapIterationStarted", "mapIterationStartedEventDetails", details
            )
            # Each iteration reads the outer variables; its own stay in its scope.
            variables.enter_child()
            try:
                result = self.run_states(st.processor, item_input, iteration_cur)
            except StatesError:
                self.emit(
                    iteration_cur, "MapIterationFailed", "mapIterationFailedEventDetails", details
                )
                raise
            finally:
                variables.leave_child()
            self.emit(
                iteration_cur,
                "MapIterationSucceeded",
                "mapIterationSucceededEventDetails",
                details,
            )
            return result

        def aborted(position: int, abort_cur: Cursor) -> None:
            details = {"name": st.name, "index": position} if self.history else None
            self.emit(abort_cur, "MapIterationAborted", "mapIterationAbortedEventDetails", details)

        try:
            results = self.fork(cur, len(pairs), limit, iteration, aborted)
        except StatesError:
            self.emit(cur, "MapStateFailed")
            raise
        self.emit(cur, "MapStateSucceeded")
        return results

    # -- Distributed Map ------------------------------------------------------------------

    def _distributed(
        self, st: MapState, data: Any, ctx: dict[str, Any], cur: Cursor
    ) -> Any:
        reader = st.item_reader
        items = None if reader is not None else self._items(st, data, ctx)
        # Observed order (spec 3.7): MapStateStarted comes before a path-config failure.
        length = len(items) if items is not None else 0
        self.emit(
            cur, "MapStateStarted", "mapStateStartedEventDetails", {"length": length}
        )
        request = self._map_request(st, data, ctx, items)
        runner = self.ports.map_runner
        if runner is None:
            raise StatesError(
                "States.Runtime",
                f"The Distributed Map state '{st.name}' needs a MapRunner port, and none was given",
            )
        try:
            arn = self.journal.call("map_start", lambda: runner.start(request))
        except StatesError:
            self.emit(cur, "MapStateFailed")
            raise
        self.emit(cur, "MapRunStarted", "mapRunStartedEventDetails", {"mapRunArn": arn})
        try:
            result = self.journal.call("map_result", lambda: runner.result(arn))
        except StatesError as exc:
            self.emit(
                cur,
                "MapRunFailed",
                "mapRunFailedEventDetails",
                error_details(exc.error, exc.cause),
            )
            self.emit(cur, "MapStateFailed")
            raise
        run_succeeded = self.emit(cur, "MapRunSucceeded")
        if payload_too_large(result, self.limit):
            self.emit(cur, "MapStateFailed")
            raise data_limit(st.name)
        self.emit(cur, "MapStateSucceeded")
        # Observed (spec 3.7): MapStateSucceeded and MapStateExited both point at MapRunSucceeded.
        cur.prev = run_succeeded
        return result

    def _map_request(
        self, st: MapState, data: Any, ctx: dict[str, Any], items: Any
    ) -> DistributedMapRequest:
        max_concurrency = resolve_number(st.max_concurrency, data, ctx)
        if st.max_concurrency_path is not None:
            max_concurrency = self._non_negative_int(
                st.max_concurrency_path, data, ctx, "MaxConcurrency"
            )
        count = resolve_number(st.tolerated_failure_count, data, ctx)
        if st.tolerated_failure_count_path is not None:
            value = _numeric(select(st.tolerated_failure_count_path, data, ctx))
            if not _is_int(value):
                raise Runtime(
                    f'The ToleratedFailureCountPath field refers to value "{show_value(value)}" '
                    f"which is not a valid integer: {st.tolerated_failure_count_path.text}"
                )
            if value < 0:
                raise Runtime("ToleratedFailureCount cannot be negative.")
            count = value
        percentage = resolve_number(
            st.tolerated_failure_percentage, data, ctx, high=100, integer=False
        )
        if st.tolerated_failure_percentage_path is not None:
            value = _numeric(select(st.tolerated_failure_percentage_path, data, ctx),
                             integer=False)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise Runtime(
                    "The ToleratedFailurePercentagePath field refers to value "
                    f'"{show_value(value)}" which is not a valid float: '
                    f"{st.tolerated_failure_percentage_path.text}"
                )
            if not 0 <= value <= 100:
                raise Runtime("ToleratedFailurePercentage must be between 0 and 100.")
            percentage = float(value)
        reader_request = None
        if st.item_reader is not None:
            r = st.item_reader
            max_items = r.reader_config.max_items
            if r.max_items is not None:
                max_items = resolve_number(r.max_items, data, ctx)
            if r.max_items_path is not None:
                value = _numeric(select(r.max_items_path, data, ctx))
                if not _is_int(value):
                    raise Runtime(
                        f'The MaxItemsPath field refers to value "{show_value(value)}" which is '
                        f"not a valid integer: {r.max_items_path.text}"
                    )
                # A negative value is passed on: the Map Run then fails with
                # States.ItemReaderFailed "field MaxItems must be positive" (observed).
                max_items = value
            reader_request = ItemReaderRequest(
                resource=r.resource,
                parameters=r.parameters.evaluate(data, ctx) if r.parameters is not None else {},
                config=replace(r.reader_config, max_items=max_items),
            )
        batcher_json = None
        if st.item_batcher is not None:
            b = st.item_batcher
            max_items = resolve_number(b.max_items_per_batch, data, ctx, low=1)
            if b.max_items_per_batch_path is not None:
                max_items = self._positive_int(
                    b.max_items_per_batch_path, data, ctx, "MaxItemsPerBatch"
                )
            max_bytes = resolve_number(b.max_input_bytes_per_batch, data, ctx, low=1)
            if b.max_input_bytes_per_batch_path is not None:
                max_bytes = self._positive_int(
                    b.max_input_bytes_per_batch_path, data, ctx, "MaxInputBytesPerBatch"
                )
            batcher_json = {
                "MaxItemsPerBatch": max_items,
                "MaxInputBytesPerBatch": max_bytes,
                "BatchInput": b.batch_input.evaluate(data, ctx)
                if b.batch_input is not None
                else None,
            }
        writer_json = None
        if st.result_writer is not None:
            w = st.result_writer
            writer_json = {
                "Resource": w.resource,
                "Parameters": w.parameters.evaluate(data, ctx)
                if w.parameters is not None
                else None,
                "WriterConfig": dict(w.writer_config)
                if w.writer_config is not None
                else None,
            }
        return DistributedMapRequest(
            state_name=st.name,
            label=st.label,
            map_state_raw=dict(st.raw),
            effective_input=data,
            context=self.public_context(ctx),
            max_concurrency=max_concurrency,
            tolerated_failure_count=count,
            tolerated_failure_percentage=percentage,
            reader=reader_request,
            items=items,
            item_selector=st.item_selector_raw,
            item_selector_variables=selector_variables(
                st.item_selector_raw, self.variables.current)
            if st.item_selector_raw is not None else None,
            batcher=batcher_json,
            result_writer=writer_json,
            processor=processor_json(st),
            execution_type=st.processor_config.execution_type or "STANDARD",
            query_language=st.query_language,
        )

    @staticmethod
    def _non_negative_int(path: Any, data: Any, ctx: Any, field_name: str) -> int:
        value = _numeric(select(path, data, ctx))
        if not _is_int(value):
            raise Runtime(
                f'The {field_name}Path field refers to value "{show_value(value)}" which is not '
                f"a valid integer: {path.text}"
            )
        if value < 0:
            raise Runtime(f"{field_name} cannot be negative.")
        result: int = value
        return result

    @staticmethod
    def _positive_int(path: Any, data: Any, ctx: Any, field_name: str) -> int:
        value = _numeric(select(path, data, ctx))
        if not _is_int(value):
            raise Runtime(
                f'The {field_name}Path field refers to value "{show_value(value)}" which is not '
                f"a valid integer: {path.text}"
            )
        if value <= 0:
            # Decision (cause unverified): mirror AWS's wording for the other bounds.
            raise Runtime(f"{field_name} must be greater than 0.")
        result: int = value
        return result


__all__ = ["STATE_DATA", "CompoundStates"]
