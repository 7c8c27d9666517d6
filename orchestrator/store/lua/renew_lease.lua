-- Extend a lease if the caller still holds it.
-- KEYS: lease key; ARGV: token, ttl_ms. Returns 1 when renewed, 0 when lost.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
