-- A worker claims the permits of the children of the message it starts (workers/ledger.py).
-- KEYS: sem, claims; ARGV: token, now_ms, expiry_ms, holder1, holder2, ...
-- Returns: per holder, 1 when this delivery may run the child, 0 when it must not.
--
-- A permit is claimed by one delivery of its message (``token``). Claiming starts the lease:
-- until then the permit is parked (it does not expire while its message waits in the queue).
-- A claim is refused when the permit is gone (reclaimed: another dispatch runs the child) or
-- when another delivery claimed it and still renews it (the broker redelivered a message
-- that is still running, e.g. past its visibility timeout): docs/architecture.md invariant 6.
local sem, claims = KEYS[1], KEYS[2]
local token, now, expiry = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
for i = 4, #ARGV do
  local holder = ARGV[i]
  local score = redis.call('ZSCORE', sem, holder)
  local ok = 0
  if score then
    local owner = redis.call('HGET', claims, holder)
    if not owner or owner == token or tonumber(score) <= now then
      redis.call('HSET', claims, holder, token)
      redis.call('ZADD', sem, 'XX', expiry, holder)
      ok = 1
    end
  end
  table.insert(out, ok)
end
return out
