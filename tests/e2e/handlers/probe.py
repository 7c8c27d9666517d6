"""Task handlers that let the e2e tests watch the runtime from inside the children.

The workers import this module (``STEPMAP_HANDLER_MODULES``); each handler records what it saw
in the stack's Redis (``STEPMAP_REDIS__URL``, the URL every stack process gets) under keys
named by the event's ``probe`` field, so that tests sharing one stack never mix their records:

* ``probe:{ns}:running`` — gauge of handlers running now (INCR on entry, DECR on exit).
* ``probe:{ns}:peak`` — the highest value the gauge ever had.
* ``probe:{ns}:starts`` — one JSON line per entry: ``{"id", "t", "running", "worker"}`` (the
  gauge it saw, itself included; ``worker`` is the pid of the Celery worker's main process).
* ``probe:{ns}:done`` — one JSON line per successful exit: ``{"id", "start", "stop"}``.

Every handler takes an event ``{"probe": ns, "id": <item id>, ...}`` and returns
``{"id": <item id>, "out": <item id> * 10}`` so result files can be compared exactly.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import redis

from workers.handlers.registry import HandlerContext, HandlerError, handler

# Entry: bump the gauge, raise the peak, log the start with the gauge it saw (one atomic step,
# so the gauge a child records includes every child that entered before it).
_ENTER = """
local running = redis.call('INCR', KEYS[1])
local peak = tonumber(redis.call('GET', KEYS[2]) or '0')
if running > peak then redis.call('SET', KEYS[2], running) end
redis.call('RPUSH', KEYS[3], cjson.encode({id = cjson.decode(ARGV[1]), t = tonumber(ARGV[2]), running = running,
                                 worker = tonumber(ARGV[3])}))
return running
"""

_client: redis.Redis | None = None
_enter_script: Any = None


_init_lock = threading.Lock()


def _redis() -> tuple[redis.Redis, Any]:
    # Handlers of one child may run in several threads at once (Parallel, inline Map).
    global _client, _enter_script
    with _init_lock:
        if _client is None:
            client = redis.Redis.from_url(os.environ["STEPMAP_REDIS__URL"])
            _enter_script = client.register_script(_ENTER)
            _client = client
        return _client, _enter_script


def _patiently(call: Any) -> Any:
    """Run a Redis call, waiting out a Redis restart (the chaos tier restarts it mid-run)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return call()
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def keys(ns: str) -> dict[str, str]:
    """The Redis keys of probe namespace ``ns``."""
    base = f"probe:{ns}"
    return {name: f"{base}:{name}" for name in ("running", "peak", "starts", "done")}


def _hold_the_gil(seconds: float) -> None:
    """Sleep in C without releasing the GIL (libc's sleep through ``ctypes.PyDLL``, which
    keeps the GIL during the call): no other thread of this process runs meanwhile."""
    import ctypes

    # One call for the whole time: between two calls the interpreter could switch threads.
    ctypes.PyDLL(None).usleep(ctypes.c_uint(int(seconds * 1_000_000)))


def _probe(event: Any, seconds: float, fail: bool, wait: Any = None, *,
           gil: bool = False) -> Any:
    if not isinstance(event, dict) or "probe" not in event:
        raise HandlerError("Probe.BadEvent", f"expected {{'probe': ns, 'id': ...}}, got {event!r}"[:300])
    ns, item_id = str(event["probe"]), event.get("id")
    client, enter = _redis()
    k = keys(ns)
    start = time.time()
    _patiently(lambda: enter(keys=[k["running"], k["peak"], k["starts"]],
                             args=[json.dumps(item_id), repr(start), os.getppid()]))
    try:
        if wait is not None:
            wait()
        if seconds > 0:
            (_hold_the_gil if gil else time.sleep)(seconds)
    finally:
        _patiently(lambda: client.decr(k["running"]))
    if fail:
        raise HandlerError("Probe.Failure", f"item {item_id} fails on purpose")
    done = json.dumps({"id": item_id, "start": start, "stop": time.time()})
    _patiently(lambda: client.rpush(k["done"], done))
    return {"id": item_id, "out": item_id * 10 if isinstance(item_id, int) else item_id}


@handler("probe-gauge")
def probe_gauge(event: Any, context: HandlerContext) -> Any:
    """Record concurrency, sleep ``event["sleep"]`` seconds (default 0.2), return."""
    return _probe(event, float(event.get("sleep", 0.2)) if isinstance(event, dict) else 0.0, False)


@handler("probe-gate")
def probe_gate(event: Any, context: HandlerContext) -> Any:
    """Wait (running) until the test sets ``probe:{ns}:gate``, then like ``probe-gauge``.

    Gives up after ``event["patience"]`` seconds (default 120) with ``Probe.GateClosed``.
    """
    if not isinstance(event, dict) or "probe" not in event:
        raise HandlerError("Probe.BadEvent", f"expected {{'probe': ns, 'id': ...}}, got {event!r}"[:300])
    gate = f"probe:{event['probe']}:gate"

    def wait() -> None:
        client, _ = _redis()
        give_up = time.monotonic() + float(event.get("patience", 120))
        while not _patiently(lambda: client.exists(gate)):
            if time.monotonic() > give_up:
                raise HandlerError("Probe.GateClosed", f"{gate} was not opened in time")
            time.sleep(0.05)

    return _probe(event, float(event.get("sleep", 0)), False, wait)


@handler("probe-gil")
def probe_gil(event: Any, context: HandlerContext) -> Any:
    """Record concurrency and hold the GIL for ``event["sleep"]`` seconds (a C call that
    does not release it), then return."""
    return _probe(event, float(event.get("sleep", 0.2)) if isinstance(event, dict) else 0.0,
                  False, gil=True)


@handler("probe-fail")
def probe_fail(event: Any, context: HandlerContext) -> Any:
    """Fail with ``Probe.Failure`` when ``event["id"]`` is in ``event["fail_ids"]``.

    With ``event["redrive"]`` (``$$.Execution.RedriveCount``) above 0 it succeeds: a
    redriven child gets through.
    """
    fail = (isinstance(event, dict) and event.get("id") in (event.get("fail_ids") or [])
            and not event.get("redrive"))
    return _probe(event, float(event.get("sleep", 0)) if isinstance(event, dict) else 0.0, fail)


@handler("probe-sleep")
def probe_sleep(event: Any, context: HandlerContext) -> Any:
    """Sleep ``event["slow_seconds"]`` for ids in ``event["slow_ids"]``, else ``event["sleep"]``."""
    if not isinstance(event, dict):
        return _probe(event, 0.0, False)
    slow = event.get("id") in (event.get("slow_ids") or [])
    seconds = float(event.get("slow_seconds", 2.0)) if slow else float(event.get("sleep", 0))
    return _probe(event, seconds, False)


@handler("probe-holdout")
def probe_holdout(event: Any, context: HandlerContext) -> Any:
    """Ids in ``event["slow_ids"]`` hold their slot until ``event["others"]`` children are done.

    The other ids sleep ``event["sleep"]`` seconds. A slow call waits (running) until
    ``probe:{ns}:done`` holds ``others`` lines, for up to ``event["patience"]`` seconds
    (default 90), and fails with ``Probe.Convoy`` when they do not come: a scheduler that
    refills slots only when the slowest child of a group ends, or that queues children behind a
    running one in the same message, can never let them all finish, whatever the machine's
    speed. A success proves the others ran past the slow one, from inside the handlers.
    """
    if not isinstance(event, dict) or "probe" not in event:
        return _probe(event, 0.0, False)
    if event.get("id") not in (event.get("slow_ids") or []):
        return _probe(event, float(event.get("sleep", 0)), False)
    done, others = keys(str(event["probe"]))["done"], int(event["others"])

    def wait() -> None:
        client, _ = _redis()
        give_up = time.monotonic() + float(event.get("patience", 90))
        while _patiently(lambda: client.llen(done)) < others:
            if time.monotonic() > give_up:
                raise HandlerError("Probe.Convoy", f"fewer than {others} other children ended "
                                   "while a slow one held its slot")
            time.sleep(0.02)

    return _probe(event, 0.0, False, wait)


@handler("probe-barrier")
def probe_barrier(event: Any, context: HandlerContext) -> Any:
    """Succeed only once ``event["parties"]`` calls of ``event["group"]`` are in at once.

    Each call counts itself in ``probe:{ns}:arrived:{group}`` and waits (up to
    ``event["patience"]`` seconds, default 30) until the count reaches ``parties``; a call
    that gives up fails with ``Probe.NotConcurrent``. Calls that run one after the other can
    never all pass, so a success proves the overlap from inside the handlers. Starts and
    successful exits are recorded like the other probes (``starts``, ``done``, ``peak``).
    """
    if not isinstance(event, dict) or "probe" not in event or "group" not in event:
        raise HandlerError("Probe.BadEvent", f"expected probe, group, parties; got {event!r}"[:300])
    ns, item_id, parties = str(event["probe"]), event.get("id"), int(event.get("parties", 2))
    client, enter = _redis()
    k = keys(ns)
    start = time.time()
    enter(keys=[k["running"], k["peak"], k["starts"]], args=[json.dumps(item_id), repr(start), os.getppid()])
    arrived = f"probe:{ns}:arrived:{event['group']}"
    try:
        client.incr(arrived)
        give_up = time.monotonic() + float(event.get("patience", 30))
        while int(client.get(arrived) or 0) < parties:
            if time.monotonic() > give_up:
                raise HandlerError("Probe.NotConcurrent",
                                   f"{event['group']}: fewer than {parties} calls at once")
            time.sleep(0.02)
    finally:
        client.decr(k["running"])
    stop = time.time()
    client.rpush(k["done"], json.dumps({"id": item_id, "group": event["group"], "start": start,
                                         "stop": stop}))
    return {"id": item_id, "out": item_id * 10 if isinstance(item_id, int) else item_id}


@handler("probe-token")
def probe_token(event: Any, context: HandlerContext) -> Any:
    """Hand a task token out: record ``{"id", "token"}`` in ``probe:{ns}:tokens`` and return.

    The Task (``.waitForTaskToken``) then waits until the test answers the token with
    SendTaskSuccess/SendTaskFailure (or a timer times it out). Starts are recorded like the
    other probes; ``running`` is not held, since the waiting happens outside the handler.
    """
    if not isinstance(event, dict) or "probe" not in event or "token" not in event:
        raise HandlerError("Probe.BadEvent", f"expected probe, id, token; got {event!r}"[:300])
    ns, item_id = str(event["probe"]), event.get("id")
    client, _ = _redis()
    client.rpush(f"probe:{ns}:tokens", json.dumps({"id": item_id, "token": event["token"]}))
    return {"handedOut": item_id}
