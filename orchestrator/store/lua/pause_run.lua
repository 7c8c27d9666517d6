-- Pause or resume a Map Run (stepmap extension). KEYS: the Map Run record.
-- ARGV: 'pause' | 'resume', now (epoch s, text)
-- pause: an open (RUNNING or QUEUED) run gets pausedAt unless it has one; returns 1, else 0.
-- resume: the current pause ends: its length is added to pausedSeconds; returns 1 if it was
-- paused, else 0. The grant script grants nothing while pausedAt is set.
local record, mode, now = KEYS[1], ARGV[1], ARGV[2]
if mode == 'pause' then
  local status = redis.call('HGET', record, 'status')
  if status ~= 'RUNNING' and status ~= 'QUEUED' then return 0 end
  redis.call('HSETNX', record, 'pausedAt', now)
  return 1
end
local at = redis.call('HGET', record, 'pausedAt')
if not at then return 0 end
local total = tonumber(redis.call('HGET', record, 'pausedSeconds') or '0')
  + math.max(0, tonumber(now) - tonumber(at))
redis.call('HSET', record, 'pausedSeconds', string.format('%.3f', total))
redis.call('HDEL', record, 'pausedAt')
return 1
