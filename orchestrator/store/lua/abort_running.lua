-- Record every child that holds a permit as ABORTED (first status wins) and drop all permits.
-- KEYS: status, counters, sem, inputs
-- ARGV: the status to give (ABORTED)
-- Returns: the indexes newly aborted
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
  elseif idx and redis.call('HDEL', inputs, 'a:' .. idx) == 0 then
    -- an extra dispatch of a child recorded before (or a second holder of one aborted just
    -- now): it no longer counts as dispatched, unless the record absorbed it
    -- (record_outcomes.lua)
    local w = tonumber(redis.call('HGET', inputs, 'w:' .. idx) or '1')
    redis.call('HINCRBY', counters, 'i.dispatched', -w)
    redis.call('HINCRBY', counters, 'e.dispatched', -1)
  end
end
redis.call('DEL', sem)
return out
