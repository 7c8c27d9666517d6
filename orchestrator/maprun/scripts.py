"""Atomic Redis operations of a Map Run, as Lua scripts (one round trip each).

The concurrency semaphore is a sorted set ``holder -> lease expiry (ms)``. A holder id is
``{child index}:{dispatch tag}``, unique per dispatch attempt, so a stale holder (a message
redelivered after its lease was reclaimed) can only remove its own entry, never someone
else's permit. Expired leases are reclaimed by the next dispatch: their children go back to
the ready queue unless they already have a terminal status.

A worker also writes each child's outcome to the Map Run's outbox (``{status key}:outbox``,
see :func:`orchestrator.messages.outbox_key`) the moment the child ends; the dispatcher settles a child from there
when its permit expires before its report arrived, instead of running it again.

A child's terminal status is written with HSETNX, keyed by its index: the first report wins
and a redelivered or duplicated message never counts an item twice (ARCHITECTURE invariant 3).
"""

from __future__ import annotations

from typing import Any

import redis

# KEYS: sem, queue, control, inputs, status, counters[, outbox]
# ARGV: now_ms, lease_ms, max_n, tag[, max_bytes]
# Returns: {reclaimed_count, idx1, holder1, input1, idx2, ...}; with the outbox key:
#          {reclaimed_count, {settle_idx1, settle_holder1, ...}, idx1, holder1, input1, ...}
#
# The outbox (optional KEYS[7]) holds the outcome a worker wrote as soon as a child ended, before
# its report reached the control plane. An expired permit whose child is in the outbox is not
# requeued: the child already ran, only its report is late (control worker down or restarting,
# report lost with a crashed process, or a long multi-child message). Its permit is renewed and
# it is returned for settling from the outbox, so a STANDARD child that succeeded never runs again
# (ARCHITECTURE invariant 6) and a lost report cannot stall the run (invariant 4).
#
# No permit is granted once the failures exceed the tolerated-failure threshold.
DISPATCH = r"""
local sem, queue, control, inputs, status, counters = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local outbox = KEYS[7]
local now, lease, max_n, tag = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local reclaimed = 0
local settle = {}
local expired = redis.call('ZRANGEBYSCORE', sem, '-inf', now)
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', sem, '-inf', now)
  for _, holder in ipairs(expired) do
    local idx = string.match(holder, '^(%d+):')
    if idx and redis.call('HEXISTS', status, idx) == 0 then
      if outbox and redis.call('HEXISTS', outbox, idx) == 1 then
        -- finished, report late: keep the permit and settle it from the outbox
        redis.call('ZADD', sem, now + lease, holder)
        table.insert(settle, idx)
        table.insert(settle, holder)
      else
        local w = tonumber(redis.call('HGET', inputs, 'w:' .. idx) or '1')
        redis.call('ZADD', queue, tonumber(idx), idx)
        redis.call('HINCRBY', counters, 'i.dispatched', -w)
        redis.call('HINCRBY', counters, 'e.dispatched', -1)
        reclaimed = reclaimed + 1
      end
    end
  end
end
local out = {reclaimed}
if outbox then table.insert(out, settle) end
if redis.call('HGET', control, 'status') ~= 'RUNNING' then return out end
-- The tolerated-failure rule (maprun.tolerance), read atomically with the counters that
-- COMPLETE writes: once failures exceed it, no permit is granted, even before the control
-- plane has marked the Map Run failed.
local bad = tonumber(redis.call('HGET', counters, 'i.FAILED') or '0')
  + tonumber(redis.call('HGET', counters, 'i.TIMED_OUT') or '0')
if bad > 0 then
  local count = tonumber(redis.call('HGET', control, 'toleratedFailureCount') or '')
  local pct = tonumber(redis.call('HGET', control, 'toleratedFailurePercentage') or '')
  if count == nil and pct == nil then return out end
  if count ~= nil and bad > count then return out end
  local total = tonumber(redis.call('HGET', counters, 'i.total') or '0')
  if pct ~= nil and redis.call('HGET', control, 'readerDone') == '1' and total > 0
      and bad * 100.0 > pct * total then return out end
end
local limit = tonumber(redis.call('HGET', control, 'limit') or '10000')
local free = limit - redis.call('ZCARD', sem)
local n = math.min(free, max_n)
if n <= 0 then return out end
-- At most max_bytes of inputs per reply (at least one child), so that dispatching large
-- batches never pulls tens of megabytes into the control process at once.
local max_bytes = tonumber(ARGV[5] or '0')
local bytes, granted = 0, 0
for _, idx in ipairs(redis.call('ZRANGE', queue, 0, n - 1)) do
  local input = nil
  if redis.call('HEXISTS', status, idx) == 0 then input = redis.call('HGET', inputs, idx) end
  if input and max_bytes > 0 and granted > 0 and bytes + #input > max_bytes then break end
  redis.call('ZREM', queue, idx)
  if input then
    local holder = idx .. ':' .. tag
    local w = tonumber(redis.call('HGET', inputs, 'w:' .. idx) or '1')
    redis.call('ZADD', sem, now + lease, holder)
    redis.call('HINCRBY', counters, 'i.dispatched', w)
    redis.call('HINCRBY', counters, 'e.dispatched', 1)
    table.insert(out, idx)
    table.insert(out, holder)
    table.insert(out, input)
    bytes, granted = bytes + #input, granted + 1
  end
end
return out
"""

# KEYS: status, counters, sem, children, inputs, queue
# ARGV: n, then per outcome: idx, holder, status, record_json
# Returns: the indexes newly recorded
COMPLETE = r"""
local status, counters, sem, children, inputs, queue = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local n = tonumber(ARGV[1])
local fresh = {}
for i = 0, n - 1 do
  local idx, holder, st, record = ARGV[2 + i*4], ARGV[3 + i*4], ARGV[4 + i*4], ARGV[5 + i*4]
  local live = redis.call('ZREM', sem, holder)
  local w = tonumber(redis.call('HGET', inputs, 'w:' .. idx) or '1')
  if redis.call('HSETNX', status, idx, st) == 1 then
    redis.call('HINCRBY', counters, 'i.' .. st, w)
    redis.call('HINCRBY', counters, 'e.' .. st, 1)
    redis.call('HSET', children, idx, record)
    if st == 'SUCCEEDED' then
      redis.call('HINCRBY', counters, 'i.resultsWritten', w)
      redis.call('HINCRBY', counters, 'e.resultsWritten', 1)
    end
    if live == 0 then
      -- its lease had been reclaimed: it counts as dispatched again and leaves the queue
      redis.call('HINCRBY', counters, 'i.dispatched', w)
      redis.call('HINCRBY', counters, 'e.dispatched', 1)
      redis.call('ZREM', queue, idx)
    end
    table.insert(fresh, idx)
  elseif live == 1 and redis.call('HGET', status, idx) ~= 'ABORTED' then
    -- a redundant re-dispatch of a child that had already finished
    redis.call('HINCRBY', counters, 'i.dispatched', -w)
    redis.call('HINCRBY', counters, 'e.dispatched', -1)
  end
end
return fresh
"""

# KEYS: status, counters, sem, inputs
# ARGV: status to give (ABORTED)
# Marks every child that holds a permit as aborted; returns their indexes.
ABORT_RUNNING = r"""
local status, counters, sem, inputs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local holders = redis.call('ZRANGE', sem, 0, -1)
local out = {}
for _, holder in ipairs(holders) do
  local idx = string.match(holder, '^(%d+):')
  if idx and redis.call('HSETNX', status, idx, ARGV[1]) == 1 then
    local w = tonumber(redis.call('HGET', inputs, 'w:' .. idx) or '1')
    redis.call('HINCRBY', counters, 'i.' .. ARGV[1], w)
    redis.call('HINCRBY', counters, 'e.' .. ARGV[1], 1)
    table.insert(out, idx)
  end
end
redis.call('DEL', sem)
return out
"""

# Worker side: KEYS: sem; ARGV: expiry_ms, holders... -> renews existing holders (XX)
RENEW = r"""
local n = 0
for i = 2, #ARGV do
  n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', tonumber(ARGV[1]), ARGV[i])
end
return n
"""




class Scripts:
    """The registered scripts of one Redis client."""

    def __init__(self, client: redis.Redis) -> None:
        self.dispatch = client.register_script(DISPATCH)
        self.complete = client.register_script(COMPLETE)
        self.abort_running = client.register_script(ABORT_RUNNING)

    def __getattr__(self, name: str) -> Any:  # pragma: no cover - clearer error for typos
        raise AttributeError(f"no Map Run script named {name!r}")
