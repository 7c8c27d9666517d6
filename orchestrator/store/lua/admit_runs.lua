-- Admit queued Map Runs while fewer than the limit are open (stepmap extension: admission).
-- KEYS: open zset, admission ring zset, admission limit string
-- ARGV: default limit (0: none), now_ms (ring turns), queue key prefix, record key prefix
-- Returns: the ARNs admitted, in admission order.
--
-- admittedAt is the server's TIME at this atomic step (not a caller's clock read earlier), so
-- a run's admission is never dated before the stop of the run whose slot it took.
--
-- Fairness: the ring holds one entry per admission key (the parent's state machine) that has
-- queued runs, scored by its turn; the lowest goes next, takes the head of its FIFO queue and
-- moves to the back of the ring (round robin between keys, FIFO within one). A queued run
-- that was aborted meanwhile is dropped from its queue without taking a slot.
local open, ring, limit_key = KEYS[1], KEYS[2], KEYS[3]
local limit = tonumber(redis.call('GET', limit_key) or ARGV[1])
local now_ms, qprefix, rprefix = tonumber(ARGV[2]), ARGV[3], ARGV[4]
local time = redis.call('TIME')
local now = string.format('%d.%06d', tonumber(time[1]), tonumber(time[2]))
local out = {}
while limit <= 0 or redis.call('ZCARD', open) < limit do
  local head = redis.call('ZRANGE', ring, 0, 0)
  if #head == 0 then break end
  local key = head[1]
  local queue = qprefix .. key
  local arn = redis.call('LPOP', queue)
  if redis.call('LLEN', queue) == 0 then
    redis.call('ZREM', ring, key)
  else
    local last = redis.call('ZRANGE', ring, -1, -1, 'WITHSCORES')
    redis.call('ZADD', ring, math.max(now_ms, tonumber(last[2]) + 1), key)
  end
  if arn then
    local record = rprefix .. arn
    if redis.call('HGET', record, 'status') == 'QUEUED' then
      redis.call('HSET', record, 'status', 'RUNNING', 'admittedAt', now)
      redis.call('ZADD', open, tonumber(now), arn)
      table.insert(out, arn)
    end
  end
end
return out
