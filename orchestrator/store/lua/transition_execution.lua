-- KEYS: execution hash, history list. ARGV: n_allowed, statuses..., n_set, pairs..., n_del,
-- names..., event body ('' = none; else the event JSON without id/previousEventId).
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
local i = 1
local n = tonumber(ARGV[i]); i = i + 1
local allowed = false
for _ = 1, n do
  if ARGV[i] == status then allowed = true end
  i = i + 1
end
if not allowed then return 0 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]); i = i + 2 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HDEL', KEYS[1], ARGV[i]); i = i + 1 end
local body = ARGV[i]
if body ~= '' then
  local last = 0
  local tail = redis.call('LRANGE', KEYS[2], -1, -1)
  if #tail == 1 then
    local found = string.match(tail[1], '"id":%s*(%d+)')
    if found then last = tonumber(found) else last = redis.call('LLEN', KEYS[2]) end
  end
  local prefix = '{"id":' .. (last + 1) .. ',"previousEventId":' .. last
  if body == '{}' then
    redis.call('RPUSH', KEYS[2], prefix .. '}')
  else
    redis.call('RPUSH', KEYS[2], prefix .. ',' .. string.sub(body, 2))
  end
end
return redis.call('HGETALL', KEYS[1])
