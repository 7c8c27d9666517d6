-- Give a lease up if the caller holds it (never someone else's).
-- KEYS: lease key; ARGV: token. Returns 1 when released.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
