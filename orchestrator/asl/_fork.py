"""Concurrent branches: the scheduler of Parallel branches and inline Map iterations.

A Parallel attempt or an inline Map attempt is a *fork*: ``count`` strands (branches,
iterations) that run at once, at most ``limit`` of them started and unfinished (0: no
limit). The interpreter stays single-threaded and pure; concurrency comes from suspending.
A strand runs until it ends or waits for a port answer (``Pending`` from a port, or
``Blocked`` from a fork nested in it); then the next strand runs. When every unfinished
strand waits, the fork either hands all the waiting calls out at once (``Blocked``, which
``run_execution`` turns into a ``Suspended`` outcome with several pending calls), or, when
the Task invoker offers a :class:`~orchestrator.asl.ports.RequestPool` (child workflows on
a worker), submits them to the pool, takes the answers in whatever order they come, and
goes on.

Journal. The fork is one journal entry (kind ``fork``) holding one record per started
strand: its own journal ``j`` (its port answers in its call order) and ``ids``, the event
ids its events were given. A strand resumes by replaying its own journal, so answers may
arrive in any order, and each answer goes to exactly one place, addressed by a key (see
``_journal.deliver``). An event whose index in its strand has an id already is not emitted
again (it was handed out); a new event gets the next id after everything handed out. That
keeps history ids stable across suspensions, restarts and redeliveries. A finished strand
keeps only its result (``r``) and last event (``p``); a closed fork keeps only its results
(or its error), the last event id counted (``top``) and the last event (``prev``).

Scheduling order (deterministic, so replay reproduces it): started strands in index order,
then new strands while there is room. The first failing strand in that order fails the
fork: strands not started never start, running ones are abandoned (their pending calls are
dropped, late answers ignored), and ``on_abort`` may record an event for each of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from orchestrator.asl._journal import Journal, deliver
from orchestrator.asl._runtime import Cursor, Fatal
from orchestrator.asl._states_simple import SimpleStates
from orchestrator.asl.errors import StatesError
from orchestrator.asl.ports import (
    ConcurrentTasks,
    Pending,
    Ports,
    Request,
    RequestPool,
    TaskRequest,
    WaitRequest,
)

#: One waiting call: (key relative to the journal that holds the fork, journal kind, request).
Call = tuple[str, str, Request]


class Blocked(Exception):
    """Raised out of a fork: its strands wait for the answers of ``calls``."""

    def __init__(self, calls: list[Call]) -> None:
        super().__init__(f"{len(calls)} branch call(s) pending")
        self.calls = calls


class StrandIds:
    """Event ids of one strand: known ones are replayed, new ones appended."""

    __slots__ = ("ids", "n")

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids
        self.n = 0


class _DeferredTasks:
    """Tasks port inside strands while a pool runs the calls: every call waits."""

    def invoke(self, request: TaskRequest) -> Any:
        raise Pending(request)


class _DeferredClock:
    """Clock port inside strands while a pool runs the calls: waits go to the pool."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock

    def now(self) -> datetime:
        value: datetime = self.clock.now()
        return value

    def wait_until(self, state_name: str, until: datetime) -> None:
        if until > self.clock.now():
            raise Pending(WaitRequest(state_name=state_name, until=until))


def _error_of(entry: dict[str, Any]) -> StatesError:
    if entry.get("f"):
        return Fatal(entry["e"], entry.get("c", ""), timed_out=bool(entry.get("t")))
    return StatesError(entry["e"], entry.get("c", ""))


class Forks(SimpleStates):
    """The fork scheduler shared by Parallel and inline Map."""

    def fork(
        self,
        cur: Cursor,
        count: int,
        limit: int,
        body: Callable[[int, Cursor], Any],
        on_abort: Callable[[int, Cursor], None] | None = None,
    ) -> list[Any]:
        """Run ``body(index, cursor)`` for every index in ``range(count)`` concurrently.

        Returns the results in index order, or raises the first failure (see the module
        docstring), ``Blocked`` when strands wait for answers nobody here can give.
        """
        journal = self.journal
        entry = journal.open_fork()
        pos = journal.pos - 1
        record = entry["v"]
        if "s" not in record:  # closed by an earlier run
            self.eid = max(self.eid, record["top"])
            if self.strand is not None:
                self.strand.n += record.get("x", 0)
            cur.prev = record["prev"]
            if "e" in entry:
                raise _error_of(entry)
            return list(record["r"])
        strands: list[dict[str, Any]] = record["s"]
        pool: RequestPool | None = None
        saved_ports = self.ports
        if self.pool is None and isinstance(saved_ports.tasks, ConcurrentTasks):
            pool = saved_ports.tasks.open_pool(saved_ports.clock)
            self.pool = pool
            self.ports = Ports(
                tasks=_DeferredTasks(),
                clock=_DeferredClock(saved_ports.clock),
                map_runner=saved_ports.map_runner,
                random=saved_ports.random,
            )
        try:
            return self._schedule(cur, entry, pos, strands, count, limit, body, on_abort, pool)
        finally:
            if pool is not None:
                pool.close()
                self.pool = None
                self.ports = saved_ports

    def _schedule(
        self,
        cur: Cursor,
        entry: dict[str, Any],
        pos: int,
        strands: list[dict[str, Any]],
        count: int,
        limit: int,
        body: Callable[[int, Cursor], Any],
        on_abort: Callable[[int, Cursor], None] | None,
        pool: RequestPool | None,
    ) -> list[Any]:
        start_prev = cur.prev
        waiting: dict[int, list[Call]] = {}
        dirty: set[int] | None = None  # None: run every unfinished strand
        running: dict[str, str] = {}  # pool calls in flight: key -> kind
        while True:
            failure = self._pass(strands, count, limit, body, start_prev, waiting, dirty)
            if failure is not None:
                index, exc, prev = failure
                self._close_failed(cur, entry, strands, index, exc, prev, on_abort)
                raise exc
            if len(strands) == count and not waiting:
                return self._close_done(cur, entry, strands, start_prev)
            calls = [
                (f"{pos}.{i}.{key}", kind, request)
                for i in sorted(waiting)
                for key, kind, request in waiting[i]
            ]
            if pool is None:
                raise Blocked(calls)
            for key, kind, request in calls:
                if key not in running and pool.submit(key, request):
                    running[key] = kind
            if not running:
                raise Blocked(calls)  # only calls the pool cannot make (a Map Run)
            dirty = set()
            for key, answer in pool.wait():
                if key not in running:
                    continue
                kind = running.pop(key)
                if deliver(self.journal.entries, key, {"k": kind, **answer}):
                    dirty.add(int(key.split(".")[1]))

    def _pass(
        self,
        strands: list[dict[str, Any]],
        count: int,
        limit: int,
        body: Callable[[int, Cursor], Any],
        start_prev: int,
        waiting: dict[int, list[Call]],
        dirty: set[int] | None,
    ) -> tuple[int, StatesError, int] | None:
        """Run each strand that can move, start new ones while there is room.

        Returns ``(index, error, last event)`` of the first strand that failed, else None
        (``waiting`` then holds the calls of every strand that waits).
        """
        i = 0
        unfinished = sum(1 for r in strands if "j" in r)
        while True:
            if i == len(strands):
                if len(strands) >= count or (limit > 0 and unfinished >= limit):
                    break
                strands.append({"j": [], "ids": []})
                unfinished += 1
                if dirty is not None:
                    dirty.add(i)
            rec = strands[i]
            if "j" not in rec or (dirty is not None and i not in dirty):
                i += 1
                continue
            outcome = self._run_strand(i, rec, body, start_prev)
            if outcome[0] == "failed":
                return i, outcome[1], outcome[2]
            if outcome[0] == "done":
                strands[i] = {"r": outcome[1], "p": outcome[2]}
                unfinished -= 1
                waiting.pop(i, None)
            else:
                waiting[i] = outcome[1]
            i += 1
        return None

    def _run_strand(
        self, index: int, rec: dict[str, Any], body: Callable[[int, Cursor], Any], start_prev: int
    ) -> tuple[Any, ...]:
        """Run one strand from its start, replaying its journal: done, failed or blocked."""
        saved = (self.journal, self._random, self.strand)
        journal = Journal(rec["j"])
        self.journal = journal
        self._random = None
        self.strand = StrandIds(rec["ids"])
        strand_cur = Cursor(start_prev)
        try:
            value = body(index, strand_cur)
        except Pending as pending:
            kind = journal.in_flight or pending.request.kind
            return ("blocked", [(str(len(journal.entries)), kind, pending.request)])
        except Blocked as blocked:
            return ("blocked", blocked.calls)
        except StatesError as exc:
            return ("failed", exc, strand_cur.prev)
        finally:
            self.journal, self._random, self.strand = saved
        return ("done", value, strand_cur.prev)

    def _close_done(
        self, cur: Cursor, entry: dict[str, Any], strands: list[dict[str, Any]], start_prev: int
    ) -> list[Any]:
        self.eid = max(self.eid, self.skip_until)
        results = [r["r"] for r in strands]
        cur.prev = max((r["p"] for r in strands), default=start_prev)
        entry["v"] = {"r": results, "top": self.eid, "prev": cur.prev}
        return results

    def _close_failed(
        self,
        cur: Cursor,
        entry: dict[str, Any],
        strands: list[dict[str, Any]],
        index: int,
        exc: StatesError,
        prev: int,
        on_abort: Callable[[int, Cursor], None] | None,
    ) -> None:
        self.eid = max(self.eid, self.skip_until)
        cur.prev = prev
        before = self.strand.n if self.strand is not None else 0
        if on_abort is not None:
            for i, rec in enumerate(strands):
                if i != index and "j" in rec:
                    on_abort(i, cur)
        extra = self.strand.n - before if self.strand is not None else 0
        entry["e"] = exc.error
        entry["c"] = exc.cause
        if isinstance(exc, Fatal):
            entry["f"] = 1
            if exc.timed_out:
                entry["t"] = 1
        entry["v"] = {"top": self.eid, "prev": cur.prev, "x": extra}


__all__ = ["Blocked", "Call", "Forks", "StrandIds"]
