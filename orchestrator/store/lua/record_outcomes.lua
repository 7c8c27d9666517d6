-- Record terminal outcomes; the first report of a child wins (HSETNX on its index), so a
-- redelivered or duplicated message never counts an item twice (docs/architecture.md
-- invariant 3). Recording releases the child's permit.
-- KEYS: status, counters, sem, children, inputs, queue
-- ARGV: n, then per outcome: idx, holder, status, record_json
-- Returns: the indexes newly recorded
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
