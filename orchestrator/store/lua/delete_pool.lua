-- Remove a named pool unless open Map Runs draw from it (docs/limits.md: refused while in use).
-- KEYS: pool, pool runs, pool index; ARGV: name
-- Returns: {0} no such pool, {1} removed, {2, arn1, arn2, ...} in use by these Map Runs
local pool, runs, index = KEYS[1], KEYS[2], KEYS[3]
if redis.call('EXISTS', pool) == 0 then return {0} end
local members = redis.call('HKEYS', runs)
if #members > 0 then
  local out = {2}
  for _, arn in ipairs(members) do table.insert(out, arn) end
  return out
end
redis.call('DEL', pool, runs)
redis.call('ZREM', index, ARGV[1])
return {1}
