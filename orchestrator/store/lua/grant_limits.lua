-- Rate limits and named pools (stepmap extensions, docs/limits.md): functions that
-- grant_permits.lua calls while it grants. The store prepends this file to grant_permits.lua,
-- so both run as one script: a pool's permits and its tokens are taken in the same atomic
-- step as the Map Run's own permits, whichever control process grants.
--
-- Extra ARGV of grant_permits: ARGV[6] the pool key base ("{prefix}:v1:pool:"), ARGV[7] the
-- burst of a token bucket in seconds of its rate.
--
-- A pool's permits are not a set of their own: a pool holds what its member Map Runs hold
-- (the ZCARD of each member's permit set, mr:{arn}:sem). So every path that ends a permit
-- (recorded outcome, reclaimed lease, abort, redrive) returns it to its pools with no extra
-- write, and an expired permit of a dead worker counts until its Map Run reclaims it.
--
-- Token buckets: tokens refill at `rate` per second up to `rate * burst` (at least 1), from
-- Redis TIME (one clock for every process). A child of weight w (items: its batch size;
-- children: 1) goes when the bucket holds min(w, capacity) tokens and takes w: a batch
-- larger than the capacity leaves the bucket in debt, so the long-run rate stays exact.

local function limits_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end

local function limits_bucket(L, key, field, rate, per)
  local cap = math.max(rate * L.burst, 1)
  local tokens = tonumber(redis.call('HGET', key, field .. '.tokens') or '')
  local at = tonumber(redis.call('HGET', key, field .. '.at') or '')
  if tokens == nil or at == nil then
    tokens = cap
  else
    tokens = math.min(cap, tokens + math.max(0, L.now - at) * rate / 1000.0)
  end
  table.insert(L.buckets, {key = key, field = field, rate = rate, per = per, cap = cap,
                           tokens = tokens, used = false})
end

-- The fair share of one pool for the granting run (`sem` is its permit set): active runs are
-- those that hold permits or want some (queued children). Runs below their share are woken
-- when this run leaves free permits to them (they may have no report of their own coming).
local function limits_pool(L, name, sem)
  local key = L.base .. name
  local limit = tonumber(redis.call('HGET', key, 'maxConcurrency') or '')
  if limit == nil then return end -- removed pool: no limit (docs/limits.md)
  local members = redis.call('HGETALL', key .. ':runs')
  local total, active, mine, others = 0, 1, 0, {}
  for i = 1, #members, 2 do
    local s, q, c = string.match(members[i + 1], '^(.-)\t(.-)\t(.*)$')
    if s then
      local held = redis.call('ZCARD', s)
      total = total + held
      if s == sem then
        mine = held
      else
        -- It wants permits when it could take one now: children wait, it is RUNNING, below
        -- its own limit and not waiting for rate tokens. A run that cannot take more must not
        -- hold the others to a share (the pool would sit partly idle).
        local wants = redis.call('ZCARD', q) > 0
          and redis.call('HGET', c, 'status') == 'RUNNING'
          and redis.call('HEXISTS', c, 'pausedAt') == 0
          and held < tonumber(redis.call('HGET', c, 'limit') or '10000')
          and redis.call('EXISTS', s .. ':wake-rate') == 0
        if held > 0 or wants then active = active + 1 end
        if wants then table.insert(others, {s, held, members[i]}) end
      end
    end
  end
  local free = limit - total
  -- Fair shares: floor(limit / active) for all, one more for some. While another run that
  -- wants permits holds less than the floor (starving), this run takes no more than the
  -- floor; while one holds less than the ceiling (hungry), no more than the ceiling.
  local low, high = math.floor(limit / active), math.ceil(limit / active)
  local starving, hungry = {}, {}
  for _, o in ipairs(others) do
    if o[2] < low then table.insert(starving, o) end
    if o[2] < high then table.insert(hungry, o) end
  end
  local allow = free
  if #starving > 0 then
    allow = math.min(free, low - mine)
  elseif #hungry > 0 then
    allow = math.min(free, high - mine)
  end
  L.cap = math.min(L.cap, math.max(0, allow))
  if #hungry > 0 and free > math.max(0, allow) then
    for _, o in ipairs(hungry) do
      -- one wake per hungry run and 200 ms, however many grants see it hungry
      if redis.call('SET', o[1] .. ':wake', '1', 'NX', 'PX', 200) then
        table.insert(L.wake, o[3])
      end
    end
  end
  local rate = tonumber(redis.call('HGET', key, 'itemsPerSecond') or '')
  if rate and rate > 0 then limits_bucket(L, key, 'rl.items', rate, 'items') end
end

-- Open the limits of the Map Run whose hash is `control`: its own rates and its pools.
local function limits_open(control, sem, base, burst)
  local L = {buckets = {}, wake = {}, cap = math.huge, now = limits_now(),
             burst = tonumber(burst or '') or 0.1, base = base or '', retry = 0}
  local items = tonumber(redis.call('HGET', control, 'itemsPerSecond') or '')
  local children = tonumber(redis.call('HGET', control, 'childrenPerSecond') or '')
  if items and items > 0 then limits_bucket(L, control, 'rl.items', items, 'items') end
  if children and children > 0 then
    limits_bucket(L, control, 'rl.children', children, 'children')
  end
  local pools = redis.call('HGET', control, 'pools')
  if pools and base then
    for name in string.gmatch(pools, '[^,]+') do limits_pool(L, name, sem) end
  end
  return L
end

-- May a child of `weight` items go? Takes its tokens when it may.
local function limits_take(L, weight)
  for _, b in ipairs(L.buckets) do
    local need = weight
    if b.per == 'children' then need = 1 end
    if b.tokens < math.min(need, b.cap) then
      local wait = (math.min(need, b.cap) - b.tokens) * 1000.0 / b.rate
      L.retry = math.max(L.retry, math.ceil(wait))
      return false
    end
  end
  for _, b in ipairs(L.buckets) do
    if b.per == 'children' then b.tokens = b.tokens - 1 else b.tokens = b.tokens - weight end
    b.used = true
  end
  return true
end

-- Store the buckets that gave tokens; report wakes and when to try again (a rate stopped the
-- grant: one delayed dispatch per Map Run, deduplicated by mr:{arn}:sem:wake-rate).
local function limits_close(L, sem, info)
  for _, b in ipairs(L.buckets) do
    if b.used then
      redis.call('HSET', b.key, b.field .. '.tokens', tostring(b.tokens),
                 b.field .. '.at', tostring(L.now))
    end
  end
  local retry = 0
  if L.retry > 0 and redis.call('SET', sem .. ':wake-rate', '1', 'NX', 'PX',
                                 math.max(1, L.retry)) then
    retry = L.retry
  end
  table.insert(info, retry)
  for _, arn in ipairs(L.wake) do table.insert(info, arn) end
end
