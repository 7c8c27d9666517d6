"""The journal of port answers, and the checkpoint that carries it between processes.

Suspend/resume works by deterministic replay: every port call whose answer influences
the run (task invocations, ``clock.now`` for data, waits, Map Run start/result, random
draws) goes through :meth:`Journal.call`. A fresh run appends each answer; a resumed run
replays the recorded answers in order without calling any port, then continues live.
Entries carry their kind, so a definition or engine change that alters the order of
port calls is reported as :class:`JournalMismatch` instead of silently mixing answers.

Cost when nothing suspends: one list append per port call (a run of Pass/Choice states
makes no port call at all).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.asl.errors import StatesError
from orchestrator.asl.ports import Pending, Request, request_from_dict

CHECKPOINT_VERSION = 1


class JournalMismatch(RuntimeError):
    """Replay asked for a different port call than the one recorded at this position."""


class Journal:
    """Recorded port answers with a replay cursor.

    Entries are JSON-ready dicts: ``{"k": kind, "v": value}`` for an answer,
    ``{"k": kind, "e": error, "c": cause}`` for a StatesError the port raised.
    """

    __slots__ = ("acts", "entries", "in_flight", "jumps", "on_jump", "pos")

    #: Kinds that only feed data (time, randomness); every other call is an action.
    DATA_KINDS = frozenset({"now", "random"})

    def __init__(self, entries: list[dict[str, Any]] | None = None) -> None:
        self.entries: list[dict[str, Any]] = entries if entries is not None else []
        self.pos = 0
        #: actions (task, wait, map_start, map_result) answered or replayed so far
        self.acts = 0
        #: kind of the call that raised Pending (what Checkpoint.resolve answers)
        self.in_flight: str | None = None
        #: journal position -> event id floor (redrives, see Checkpoint.floors)
        self.jumps: dict[int, int] = {}
        #: called with (event id floor, kind of the call) when a redriven call is reached
        self.on_jump: Callable[[int, str], None] | None = None

    def open_fork(self) -> dict[str, Any]:
        """The journal entry of a Parallel or inline Map attempt (kind ``fork``).

        A fresh run appends ``{"k": "fork", "v": {"s": []}}``; a replay returns the recorded
        entry itself (not a copy): the fork keeps its branches' journals in it and closes it
        in place (see ``_fork``).
        """
        pos = self.pos
        if self.jumps and pos in self.jumps and self.on_jump is not None:
            self.on_jump(self.jumps[pos], "fork")
        if pos < len(self.entries):
            entry = self.entries[pos]
            if entry["k"] != "fork":
                raise JournalMismatch(
                    f"journal entry #{pos} recorded a {entry['k']!r} call but the run now "
                    "starts branches; the definition or the engine changed since the "
                    "checkpoint was taken"
                )
        else:
            entry = {"k": "fork", "v": {"s": []}}
            self.entries.append(entry)
        self.pos = pos + 1
        self.acts += 1
        return entry

    @property
    def replaying(self) -> bool:
        """Whether recorded answers remain to be replayed."""
        return self.pos < len(self.entries)

    def call(self, kind: str, fn: Callable[[], Any]) -> Any:
        """Answer a port call: the recorded answer when replaying, else ``fn()`` (recorded).

        A :class:`~orchestrator.asl.ports.Pending` raised by ``fn`` propagates unrecorded.
        """
        pos = self.pos
        if self.jumps and pos in self.jumps and self.on_jump is not None:
            self.on_jump(self.jumps[pos], kind)
        if pos < len(self.entries):
            entry = self.entries[pos]
            if entry["k"] != kind:
                raise JournalMismatch(
                    f"journal entry #{pos} recorded a {entry['k']!r} call but the run now "
                    f"makes a {kind!r} call; the definition or the engine changed since the "
                    "checkpoint was taken"
                )
            self.pos = pos + 1
            if kind not in self.DATA_KINDS:
                self.acts += 1
            if "e" in entry:
                raise StatesError(entry["e"], entry.get("c", ""))
            return entry.get("v")
        try:
            value = fn()
        except Pending:
            self.in_flight = kind
            raise
        except StatesError as exc:
            self.entries.append({"k": kind, "e": exc.error, "c": exc.cause})
            self.pos += 1
            if kind not in self.DATA_KINDS:
                self.acts += 1
            raise
        self.entries.append({"k": kind, "v": value})
        self.pos += 1
        if kind not in self.DATA_KINDS:
            self.acts += 1
        return value


@dataclass
class Checkpoint:
    """Everything needed to resume a suspended execution, JSON round-trippable.

    Attributes:
        input: the execution input.
        entries: the journal (port answers in call order).
        last_event_id: id of the last history event already handed out.
        pending_kind: journal kind of the call that is waiting (``task``, ``wait``,
            ``map_start``, ``map_result``), or None once resolved.
        request: the pending request as ``to_dict()`` (what the caller must do).
        floors: one ``[journal position, history length]`` pair per redrive: from the call at
            that position on, event ids continue after the history stored at the redrive.
        pending: the calls that branches and iterations (Parallel, inline Map) wait for, by
            key (the dotted path of the call in the nested journals, see ``_fork``): each
            ``{"kind", "request", "seq"}``; ``seq`` is a negative number, unique in this
            execution, that names the call outside the engine (the Task result key).
        calls: how many such numbers were handed out.
        redrives: the execution's ``redriveCount`` this journal was made for: a larger count
            on the execution means a RedriveExecution that was not applied to it yet (its
            message may have been lost), so whoever advances the execution applies it first.
    """

    input: Any
    entries: list[dict[str, Any]] = field(default_factory=list)
    last_event_id: int = 0
    pending_kind: str | None = None
    request: dict[str, Any] | None = None
    version: int = CHECKPOINT_VERSION
    floors: list[list[int]] = field(default_factory=list)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: int = 0
    redrives: int = 0

    @property
    def waiting(self) -> bool:
        """Whether any request waits for an answer (the single one or branch calls)."""
        return self.pending_kind is not None or bool(self.pending)

    def answer(self, key: str, value: Any = None, *, error: str | None = None,
               cause: str = "") -> bool:
        """Record the answer of the branch call ``key`` (``error`` set: it failed).

        Exactly once: an answer for a call that is no longer pending (already recorded, or
        its branch was cancelled) changes nothing and returns False.
        """
        call = self.pending.pop(key, None)
        if call is None:
            return False
        entry: dict[str, Any] = {"k": call["kind"]}
        if error is not None:
            entry["e"] = error
            entry["c"] = cause
        else:
            entry["v"] = value
        return deliver(self.entries, key, entry)

    def resolve(self, value: Any = None) -> None:
        """Record the answer of the pending request (a Task result, a Map Run result, ...)."""
        if self.pending_kind is None:
            raise ValueError("this checkpoint has no pending request to resolve")
        self.entries.append({"k": self.pending_kind, "v": value})
        self.pending_kind = None

    def reject(self, error: str, cause: str = "") -> None:
        """Record that the pending request failed with ``error``/``cause`` (seen by Retry/Catch)."""
        if self.pending_kind is None:
            raise ValueError("this checkpoint has no pending request to reject")
        self.entries.append({"k": self.pending_kind, "e": error, "c": cause})
        self.pending_kind = None

    def for_redrive(self, history_length: int, *, restart_map_run: bool = False) -> Checkpoint:
        """A checkpoint that redrives a failed execution from the call that failed it.

        The failing port answer (the last journal entry, an error) is dropped, so the replay
        re-enters the failed state and makes that call again live: a Task is invoked again,
        a Distributed Map asks its (redriven) Map Run for its result again. With
        ``restart_map_run`` the Map Run's start is dropped too, so a brand-new Map Run starts
        (AWS does this after States.DataLimitExceeded and States.Runtime). Events emitted from
        there on continue the stored history after ``history_length``.

        Decision (unverified): retriers are not reset; a Task that used up its retries gets one
        more attempt per redrive.
        """
        entries = [dict(e) for e in self.entries]
        if entries and "e" in entries[-1]:
            last = entries.pop()
            if restart_map_run and last["k"] == "map_result" and entries and entries[-1]["k"] == "map_start":
                entries.pop()
        floors = [f for f in self.floors if f[0] < len(entries)] + [[len(entries), history_length]]
        return Checkpoint(input=self.input, entries=entries, last_event_id=self.last_event_id,
                          floors=floors, redrives=self.redrives)

    def pending_request(self) -> Request | None:
        """The pending request as an object, if any."""
        return request_from_dict(self.request) if self.request is not None else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``json.dumps`` works on it)."""
        return {
            "version": self.version,
            "input": self.input,
            "entries": list(self.entries),
            "last_event_id": self.last_event_id,
            "pending_kind": self.pending_kind,
            "request": self.request,
            "floors": [list(f) for f in self.floors],
            "pending": {k: dict(v) for k, v in self.pending.items()},
            "calls": self.calls,
            "redrives": self.redrives,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Checkpoint:
        """Inverse of :meth:`to_dict`."""
        version = data.get("version", CHECKPOINT_VERSION)
        if version != CHECKPOINT_VERSION:
            raise ValueError(f"unsupported checkpoint version {version!r}")
        return cls(
            input=data.get("input"),
            entries=[dict(e) for e in data.get("entries") or ()],
            last_event_id=int(data.get("last_event_id", 0)),
            pending_kind=data.get("pending_kind"),
            request=data.get("request"),
            version=version,
            floors=[[int(p), int(n)] for p, n in data.get("floors") or ()],
            pending={str(k): dict(v) for k, v in (data.get("pending") or {}).items()},
            calls=int(data.get("calls", 0)),
            redrives=int(data.get("redrives", 0)),
        )


def deliver(entries: list[dict[str, Any]], key: str, entry: dict[str, Any]) -> bool:
    """Append ``entry`` to the branch journal that call ``key`` waits in.

    ``key`` is ``"p.s.p.s...p"``: the fork entry at position ``p`` of a journal, its strand
    ``s``, and so on down to the position ``p`` the answer takes in the innermost strand's
    journal. False (nothing written) when the answer is already there or its fork has closed.
    """
    parts = [int(x) for x in key.split(".")]
    journal = entries
    for depth in range(0, len(parts) - 1, 2):
        pos, strand = parts[depth], parts[depth + 1]
        if pos >= len(journal) or journal[pos].get("k") != "fork":
            return False
        fork = journal[pos].get("v") or {}
        strands = fork.get("s")
        if not isinstance(strands, list) or strand >= len(strands):
            return False
        record = strands[strand]
        if "j" not in record:
            return False
        journal = record["j"]
    if len(journal) != parts[-1]:
        return False
    journal.append(entry)
    return True


class JournaledRandom:
    """A ``random.Random``-like source whose every draw is journaled (kind ``random``).

    Used for Retry jitter and handed to the intrinsics (UUID, MathRandom) so replay
    reproduces the same values.
    """

    __slots__ = ("_journal", "_source")

    def __init__(self, journal: Journal, source: Any) -> None:
        self._journal = journal
        self._source = source

    def random(self) -> float:
        """A float in [0, 1)."""
        return float(self._journal.call("random", self._source.random))

    def getrandbits(self, k: int) -> int:
        """An int with ``k`` random bits."""
        return int(self._journal.call("random", lambda: self._source.getrandbits(k)))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        """Like ``random.Random.randrange``."""
        return int(
            self._journal.call(
                "random", lambda: self._source.randrange(start, stop, step)
            )
        )

    def randint(self, a: int, b: int) -> int:
        """Like ``random.Random.randint``."""
        return int(self._journal.call("random", lambda: self._source.randint(a, b)))

    def uniform(self, a: float, b: float) -> float:
        """Like ``random.Random.uniform``."""
        return float(self._journal.call("random", lambda: self._source.uniform(a, b)))
