"""A Map Run's result records, read from the store in index order (for the result files).

Both writers of the result files use these: the finalizer when the Map Run closes and the
streaming writer while children run (``streaming.py``). Records are built from what the store
keeps of each child (status, record, input), never gathered beyond one read: a read takes the
statuses of up to :data:`CHUNK` children, and their records and inputs (up to 256 KiB each) in
groups of about :data:`READ_BYTES` (:class:`ReadBudget`), so what a writer holds does not grow
with the size of the children's batches.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from orchestrator.maprun.deps import Deps, child_name
from orchestrator.maprun.plan import ResultDestination
from orchestrator.statuses import ChildStatus
from orchestrator.store.maprun_base import ChildRecord
from orchestrator.store.maprun_record import MapRun

#: Children whose statuses are read per round trip.
CHUNK = 64
#: About how many bytes of children's inputs and outputs one read holds. 64 children's inputs
#: of 1,000 CSV rows were 3 MiB, held twice while decoded and once more by a nested read of
#: the streaming writer (issue 14: the control worker's peak grew with the run).
READ_BYTES = 512 * 1024
#: Children in a read before the sizes of any were seen.
FIRST_READ = 4
PENDING = "PENDING"
ALL_STATUSES = frozenset({*(s.value for s in ChildStatus if s is not ChildStatus.SUSPENDED),
                          PENDING})
#: Without a transformation every record carries its Input; with COMPACT/FLATTEN only the
#: unsuccessful ones do (they are always written as full records).
WITH_INPUT_WHEN_TRANSFORMED = ALL_STATUSES - {ChildStatus.SUCCEEDED.value}

#: One child as the writers see it: (index, status, child record, input JSON).
Child = tuple[int, str, ChildRecord | None, str]


class ReadBudget:
    """How many children the next read takes: :data:`READ_BYTES` over the bytes per child of
    the last read (:data:`FIRST_READ` before any), between 1 and :data:`CHUNK`."""

    def __init__(self) -> None:
        self.per_child: int | None = None

    def count(self, left: int) -> int:
        """Children of the next read (``left``: how many are still to read)."""
        if self.per_child is None:
            return min(left, FIRST_READ)
        return max(1, min(left, CHUNK, READ_BYTES // max(1, self.per_child)))

    def saw(self, children: Sequence[Child]) -> None:
        """Note the size of a read's children (their inputs and outputs)."""
        if children:
            size = sum(len(text) + (_record_size(record) if record else 0)
                       for _, _, record, text in children)
            self.per_child = size // len(children)


def _record_size(record: ChildRecord) -> int:
    return len(record.output or "") + len(record.error or "") + len(record.cause or "")


def statuses(deps: Deps, arn: str, indexes: Sequence[int]) -> list[str | None]:
    """Terminal status names of ``indexes`` (``None``: not ended)."""
    return [st.value if st is not None else None
            for st in deps.store.child_statuses(arn, indexes)]


def children_at(deps: Deps, run: MapRun, indexes: Sequence[int], status_names: Sequence[str],
                inputs_for: frozenset[str], budget: ReadBudget | None = None) -> Iterator[Child]:
    """The children at ``indexes`` (their statuses given; inputs only for ``inputs_for``),
    read a few at a time as ``budget`` says (one budget per pass carries what it has seen)."""
    budget = budget if budget is not None else ReadBudget()
    first = 0
    while first < len(indexes):
        last = first + budget.count(len(indexes) - first)
        read = _read(deps, run, indexes[first:last], status_names[first:last], inputs_for)
        budget.saw(read)
        yield from read
        first = last


def _read(deps: Deps, run: MapRun, indexes: Sequence[int], status_names: Sequence[str],
          inputs_for: frozenset[str]) -> list[Child]:
    from orchestrator.readers.ranges import readable

    store = deps.store
    records = store.child_records(run.arn, indexes)
    wanted = [i for i, st in zip(indexes, status_names, strict=True) if st in inputs_for]
    # A range child that never ran still holds its descriptor: read its input now.
    inputs = dict(zip(wanted, readable(deps.s3, store.child_inputs(run.arn, wanted)),
                      strict=True))
    return [(index, st, record, inputs.get(index) or "null")
            for index, st, record in zip(indexes, status_names, records, strict=True)]


def children(deps: Deps, run: MapRun, start: int = 0, *,
             inputs_for: frozenset[str] = frozenset(),
             stop_check: Any = None) -> Iterator[Child]:
    """Children from ``start`` to the end of the run in index order; PENDING when never ended.

    Inputs (up to 256 KiB each) are fetched only for the statuses in ``inputs_for``, and a few
    children at a time, so closing a run of large batches stays small in memory.
    ``stop_check`` (if given) is called before every chunk and may raise to stop.
    """
    total = run.feed.next
    budget = ReadBudget()
    for first in range(start, total, CHUNK):
        if stop_check is not None:
            stop_check()
        indexes = list(range(first, min(total, first + CHUNK)))
        names = [st or PENDING for st in statuses(deps, run.arn, indexes)]
        yield from children_at(deps, run, indexes, names, inputs_for, budget)


def _iso(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


def record(run: MapRun, index: int, status: str, child: ChildRecord | None,
           child_input: str) -> dict[str, Any]:
    """The NONE result record of one child."""
    from orchestrator.writer import result_record

    name = child.name if child else child_name(run.map_run_id, index)
    if status == ChildStatus.SUCCEEDED:
        redrive = ("NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven")
    elif status == PENDING:
        redrive = ("NOT_REDRIVABLE", "Execution has not started")
    else:
        redrive = ("REDRIVABLE", "")
    return result_record(
        execution_arn=run.execution_prefix + name, name=name,
        state_machine_arn=run.labelled_arn, status=status, input=child_input,
        output=child.output if child else None,
        error=child.error if child else None, cause=child.cause if child else None,
        start_date=(_iso(child.start) if child else None) or datetime.now(UTC),
        stop_date=_iso(child.stop) if child else None,
        redrive_count=run.redrive_count,
        redrive_status=redrive[0], redrive_status_reason=redrive[1],
    )


def inputs_for(destination: ResultDestination) -> frozenset[str]:
    """The statuses whose records carry the child's input."""
    if destination.transformation in ("COMPACT", "FLATTEN"):
        return WITH_INPUT_WHEN_TRANSFORMED
    return ALL_STATUSES
