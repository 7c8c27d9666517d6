-- Add finished children to the bounded child metrics (store/child_metrics.py), one round trip.
-- KEYS[1] the metrics hash, KEYS[2] the set of error names kept as labels.
-- ARGV[1] the cap on error names, ARGV[2] the label of the others,
-- ARGV[3] n: then n (field, count) pairs to HINCRBY, then m = ARGV[4+2n] and m (field, seconds)
-- pairs to HINCRBYFLOAT, then k and k (machine, error, count) triples.
local hash, names = KEYS[1], KEYS[2]
local cap, other = tonumber(ARGV[1]), ARGV[2]
local i = 3
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  redis.call('HINCRBY', hash, ARGV[i], ARGV[i + 1]); i = i + 2
end
local m = tonumber(ARGV[i]); i = i + 1
for _ = 1, m do
  redis.call('HINCRBYFLOAT', hash, ARGV[i], ARGV[i + 1]); i = i + 2
end
local k = tonumber(ARGV[i]); i = i + 1
for _ = 1, k do
  local machine, err, count = ARGV[i], ARGV[i + 1], ARGV[i + 2]; i = i + 3
  if redis.call('SISMEMBER', names, err) == 0 then
    if redis.call('SCARD', names) < cap then
      redis.call('SADD', names, err)
    else
      err = other
    end
  end
  redis.call('HINCRBY', hash, 'e|' .. machine .. '|' .. err, count)
end
return 1
