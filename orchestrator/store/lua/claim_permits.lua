-- A worker claims the permits of the children of the message it starts (workers/ledger.py).
-- KEYS: sem, claims; ARGV: token, now_ms, expiry_ms, redrive_count, holder1, holder2, ...
-- Returns: per holder, 0 when this delivery must not run the child, else the number of
-- deliveries that claimed the child in this redrive (1 on its first start): a child whose
-- worker dies every time it runs it is failed by the worker past a bound, not run forever.
--
-- A permit is claimed by one delivery of its message (``token``). Claiming starts the lease:
-- until then the permit is parked (it does not expire while its message waits in the queue).
-- A claim is refused when the permit is gone (reclaimed: another dispatch runs the child) or
-- when another delivery claimed it and still renews it (the broker redelivered a message
-- that is still running, e.g. past its visibility timeout): docs/architecture.md invariant 6.
local sem, claims = KEYS[1], KEYS[2]
local token, now, expiry, redrive = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local out = {}
for i = 5, #ARGV do
  local holder = ARGV[i]
  local score = redis.call('ZSCORE', sem, holder)
  local ok = 0
  if score then
    local owner = redis.call('HGET', claims, holder)
    if not owner or owner == token or tonumber(score) <= now then
      local idx = string.match(holder, '^(%d+):') or holder
      local starts = 'n:' .. idx .. ':' .. redrive
      if owner ~= token then
        ok = redis.call('HINCRBY', claims, starts, 1)
        redis.call('HSET', claims, holder, token)
      else
        ok = tonumber(redis.call('HGET', claims, starts))
      end
      redis.call('ZADD', sem, 'XX', expiry, holder)
    end
  end
  table.insert(out, ok)
end
return out
