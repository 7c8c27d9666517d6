-- Record terminal outcomes; the first report of a child wins (HSETNX on its index), so a
-- redelivered or duplicated message never counts an item twice (docs/architecture.md
-- invariant 3). Recording releases the child's permit.
-- Recorded children no longer need the copy their worker kept in the outbox for a late report:
-- the reported indexes leave it here, in the same round trip.
-- KEYS: status, counters, sem, children, inputs, queue, outbox
-- ARGV: n, then per outcome: idx, holder, status, record_json
-- Returns: the indexes newly recorded
--
-- The counters are summed per call and written once per field at the end (a report carries up
-- to celery.children_per_message children: 4 HINCRBYs per child were a third of its commands);
-- the script is atomic, so no reader sees the difference.
local status, counters, sem, children, inputs, queue = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local outbox = KEYS[7]
local n = tonumber(ARGV[1])
local fresh = {}
local add = {}
local function count(field, by) add[field] = (add[field] or 0) + by end
for i = 0, n - 1 do
  local idx, holder, st, record = ARGV[2 + i*4], ARGV[3 + i*4], ARGV[4 + i*4], ARGV[5 + i*4]
  local live = redis.call('ZREM', sem, holder)
  local w = tonumber(redis.call('HGET', inputs, 'w:' .. idx) or '1')
  if redis.call('HSETNX', status, idx, st) == 1 then
    count('i.' .. st, w)
    count('e.' .. st, 1)
    redis.call('HSET', children, idx, record)
    if st == 'SUCCEEDED' then
      count('i.resultsWritten', w)
      count('e.resultsWritten', 1)
    end
    if live == 0 then
      if redis.call('ZREM', queue, idx) == 1 then
        -- its lease had been reclaimed and it waited in the queue: it counts as dispatched again
        count('i.dispatched', w)
        count('e.dispatched', 1)
      else
        -- its lease had been reclaimed and it was dispatched again: that permit counts it, so
        -- the permit's end takes nothing back (the mark it removes then; "absorbed")
        redis.call('HSET', inputs, 'a:' .. idx, '1')
      end
    end
    table.insert(fresh, idx)
  elseif live == 1 and redis.call('HGET', status, idx) ~= 'ABORTED' then
    -- a redundant re-dispatch of a child that had already finished, unless absorbed
    if redis.call('HDEL', inputs, 'a:' .. idx) == 0 then
      count('i.dispatched', -w)
      count('e.dispatched', -1)
    end
  end
end
for field, by in pairs(add) do
  redis.call('HINCRBY', counters, field, by)
end
local reported = {}
for i = 0, n - 1 do
  table.insert(reported, ARGV[2 + i*4])
  if #reported == 500 or i == n - 1 then
    redis.call('HDEL', outbox, unpack(reported))
    reported = {}
  end
end
return fresh
