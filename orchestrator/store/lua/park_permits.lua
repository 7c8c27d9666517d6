-- Park the permits of children whose message was just sent: a permit not yet claimed by a
-- worker gets a long expiry, so it does not lapse while its message waits in the queue
-- (docs/architecture.md invariant 10). A claimed permit keeps the lease its worker renews.
-- The workers use it too, the other way: a worker that receives a message sets its unclaimed
-- permits to one lease (workers/ledger.py start_leases).
-- KEYS: sem, claims; ARGV: expiry_ms, holder1, holder2, ...
-- Returns: how many permits were parked
local sem, claims = KEYS[1], KEYS[2]
local expiry = tonumber(ARGV[1])
local parked = 0
for i = 2, #ARGV do
  if redis.call('HEXISTS', claims, ARGV[i]) == 0 then
    parked = parked + redis.call('ZADD', sem, 'XX', 'CH', expiry, ARGV[i])
  end
end
return parked
