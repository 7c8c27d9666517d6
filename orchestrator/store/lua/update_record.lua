-- KEYS: record hash (must exist). ARGV: n_set, pairs..., n_del, names...
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local i = 1
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]); i = i + 2 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HDEL', KEYS[1], ARGV[i]); i = i + 1 end
return 1
