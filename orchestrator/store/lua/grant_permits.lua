-- Grant concurrency permits: reclaim expired ones, then grant free ones to ready children.
-- KEYS: sem, queue, control (the Map Run hash), inputs, status, counters, outbox
-- ARGV: now_ms, lease_ms, max_n, tag, max_bytes, pool key base, rate burst seconds
-- Returns: {reclaimed_count, {late_idx1, late_holder1, ...}, {retry_ms, wake_arn1, ...},
--           idx1, holder1, input1, idx2, ...}
-- Rate limits and pools: the limits_* functions of grant_limits.lua, prepended by the store.
--
-- An expired permit whose child is in the outbox is not requeued: the child already ran and
-- only its report is late (control worker down, report lost with a crashed process, a long
-- multi-child message). Its permit is renewed and it is returned for settling from the outbox,
-- so a STANDARD child that succeeded never runs again (docs/architecture.md invariant 6) and
-- a lost report cannot stall the run (invariant 4).
--
-- No permit is granted once the failures exceed the tolerated-failure threshold (the rule of
-- orchestrator/maprun/tolerance.py, read atomically with the counters record_outcomes writes).
local sem, queue, control, inputs, status, counters = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local outbox = KEYS[7]
local now, lease, max_n, tag = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local reclaimed = 0
local settle = {}
-- The dispatched counters are summed here and written once (flush) before every return: two
-- HINCRBYs per granted child were a fifth of a batch-1 child's Redis commands.
local dispatched_i, dispatched_e, touched = 0, 0, false
local function flush()
  if touched then
    redis.call('HINCRBY', counters, 'i.dispatched', dispatched_i)
    redis.call('HINCRBY', counters, 'e.dispatched', dispatched_e)
    dispatched_i, dispatched_e, touched = 0, 0, false
  end
end
local expired = redis.call('ZRANGEBYSCORE', sem, '-inf', now)
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', sem, '-inf', now)
  for _, holder in ipairs(expired) do
    local idx = string.match(holder, '^(%d+):')
    if idx and redis.call('HEXISTS', status, idx) == 1 then
      -- an extra dispatch of a child recorded meanwhile: it no longer counts as dispatched
      -- (otherwise DescribeMapRun shows it running after the run ended), unless the record
      -- absorbed it (record_outcomes.lua)
      if redis.call('HDEL', inputs, 'a:' .. idx) == 0 then
        local w = tonumber(redis.call('HGET', inputs, 'w:' .. idx) or '1')
        dispatched_i, dispatched_e, touched = dispatched_i - w, dispatched_e - 1, true
      end
    elseif idx then
      if outbox and redis.call('HEXISTS', outbox, idx) == 1 then
        -- finished, report late: keep the permit and settle it from the outbox
        redis.call('ZADD', sem, now + lease, holder)
        table.insert(settle, idx)
        table.insert(settle, holder)
      else
        local w = tonumber(redis.call('HGET', inputs, 'w:' .. idx) or '1')
        redis.call('ZADD', queue, tonumber(idx), idx)
        dispatched_i, dispatched_e, touched = dispatched_i - w, dispatched_e - 1, true
        reclaimed = reclaimed + 1
      end
    end
  end
end
local out = {reclaimed}
if outbox then table.insert(out, settle) end
local info = {}
table.insert(out, info)
if redis.call('HGET', control, 'status') ~= 'RUNNING' then flush() return out end
-- A paused Map Run (stepmap extension) grants nothing; expired permits are still reclaimed.
if redis.call('HEXISTS', control, 'pausedAt') == 1 then flush() return out end
-- The tolerated-failure rule (maprun.tolerance), read atomically with the counters that
-- COMPLETE writes: once failures exceed it, no permit is granted, even before the control
-- plane has marked the Map Run failed.
local bad = tonumber(redis.call('HGET', counters, 'i.FAILED') or '0')
  + tonumber(redis.call('HGET', counters, 'i.TIMED_OUT') or '0')
if bad > 0 then
  local count = tonumber(redis.call('HGET', control, 'toleratedFailureCount') or '')
  local pct = tonumber(redis.call('HGET', control, 'toleratedFailurePercentage') or '')
  if count == nil and pct == nil then flush() return out end
  if count ~= nil and bad > count then flush() return out end
  local total = tonumber(redis.call('HGET', counters, 'i.total') or '0')
  if pct ~= nil and redis.call('HGET', control, 'readerDone') == '1' and total > 0
      and bad * 100.0 > pct * total then flush() return out end
end
local limit = tonumber(redis.call('HGET', control, 'limit') or '10000')
local free = limit - redis.call('ZCARD', sem)
local L = limits_open(control, sem, ARGV[6], ARGV[7])
local n = math.min(free, max_n, L.cap)
if n <= 0 then
  limits_close(L, sem, info)
  flush()
  return out
end
-- At most max_bytes of inputs per reply (at least one child), so that dispatching large
-- batches never pulls tens of megabytes into the control process at once.
local max_bytes = tonumber(ARGV[5] or '0')
local bytes, granted = 0, 0
for _, idx in ipairs(redis.call('ZRANGE', queue, 0, n - 1)) do
  local input, w = nil, 1
  if redis.call('HEXISTS', status, idx) == 0 then
    local got = redis.call('HMGET', inputs, idx, 'w:' .. idx)
    if got[1] then input, w = got[1], tonumber(got[2] or '1') end
  end
  if input and max_bytes > 0 and granted > 0 and bytes + #input > max_bytes then break end
  if input and not limits_take(L, w) then break end
  redis.call('ZREM', queue, idx)
  if input then
    local holder = idx .. ':' .. tag
    redis.call('ZADD', sem, now + lease, holder)
    dispatched_i, dispatched_e, touched = dispatched_i + w, dispatched_e + 1, true
    table.insert(out, idx)
    table.insert(out, holder)
    table.insert(out, input)
    bytes, granted = bytes + #input, granted + 1
  end
end
limits_close(L, sem, info)
flush()
return out
