// The one Lua script behind every RedisAccumulators operation (see
// redis_accumulators.h and docs/redis-keys.md). ARGV[1] is the operation,
// then: prefix, now (us since the epoch), now's minute, today's start (us),
// this month's start (us), seconds left in the business day; then the
// operation's own arguments. Times come from the caller's clock.
//
// Lua numbers are doubles: sums and times stay exact below 2^53 (micro-USD
// up to $9e9, microsecond timestamps for centuries). Increments go through
// HINCRBY with the caller's decimal strings, so stored values are integers.
#pragma once

namespace tally::live::redis {

inline constexpr const char* kLiveScript = R"lua(
local op, P = ARGV[1], ARGV[2]
local now_us, now_min = tonumber(ARGV[3]), tonumber(ARGV[4])
local today, month, day_left = ARGV[5], ARGV[6], tonumber(ARGV[7])
local MIN_TTL, DAY_TTL, MONTH_TTL = 7200, 259200, 6048000

local function idiv(a, b)
  local q = a / b
  if q >= 0 then return math.floor(q) end
  return math.ceil(q)
end

-- Integers as decimal strings (never "1e+15").
local function int(v) return string.format('%d', v) end

-- Reservations of agent a: resv:exp:{a} (ZSET id -> expiry us),
-- resv:amt:{a} (HASH id -> estimate) and resv:sum:{a}, the running total of
-- the amounts, kept by every script that adds or drops one, so a check never
-- walks the open reservations.
local function drop_amount(a, rid)
  local amt = redis.call('HGET', P .. ':resv:amt:' .. a, rid)
  if amt then
    redis.call('HDEL', P .. ':resv:amt:' .. a, rid)
    local left = redis.call('DECRBY', P .. ':resv:sum:' .. a, amt)
    if left <= 0 then redis.call('DEL', P .. ':resv:sum:' .. a) end
  end
end

local function remove_resv(rid)
  local owner = redis.call('GET', P .. ':resv:id:' .. rid)
  if owner then
    redis.call('ZREM', P .. ':resv:exp:' .. owner, rid)
    drop_amount(owner, rid)
    redis.call('DEL', P .. ':resv:id:' .. rid)
  end
end

-- Drops the agent's reservations whose expiry is <= now: only those (the
-- ZSET is ordered by expiry), so the cost is the number that expired.
local function expire_resv(a)
  local z = P .. ':resv:exp:' .. a
  local gone = redis.call('ZRANGEBYSCORE', z, '-inf', ARGV[3])
  if #gone > 0 then
    for _, rid in ipairs(gone) do
      drop_amount(a, rid)
      redis.call('DEL', P .. ':resv:id:' .. rid)
    end
    redis.call('ZREMRANGEBYSCORE', z, '-inf', ARGV[3])
  end
end

-- The agent's counters now; refreshes the seed-named keys unless quiet (the
-- budget check: four writes per check for a mirror that apply, agent and
-- snapshot keep fresh anyway).
local function agent_state(a, quiet)
  expire_resv(a)
  local s1h, s5, e5 = 0, 0, 0
  local m = redis.call('HGETALL', P .. ':spend:min:' .. a)
  for i = 1, #m, 2 do
    local k = tonumber(m[i])
    if k <= now_min and k > now_min - 60 then
      local v = tonumber(m[i + 1])
      s1h = s1h + v
      if k > now_min - 5 then s5 = s5 + v end
    end
  end
  local e = redis.call('HGETALL', P .. ':errors:min:' .. a)
  for i = 1, #e, 2 do
    local k = tonumber(e[i])
    if k <= now_min and k > now_min - 5 then e5 = e5 + tonumber(e[i + 1]) end
  end
  local td = tonumber(redis.call('HGET', P .. ':spend:day:' .. a, today) or '0')
  local reserved, count = 0, redis.call('ZCARD', P .. ':resv:exp:' .. a)
  if count > 0 then reserved = tonumber(redis.call('GET', P .. ':resv:sum:' .. a) or '0') end
  local vel = idiv(s5, 5)
  if not quiet then
    redis.call('SET', P .. ':spend:daily:' .. a, int(td), 'EX', day_left)
    redis.call('SET', P .. ':spend:hourly:' .. a, int(s1h), 'EX', 3600)
    redis.call('SET', P .. ':errors:5min:' .. a, int(e5), 'EX', 300)
    redis.call('SET', P .. ':velocity:' .. a, int(vel), 'EX', 300)
  end
  return {td = td, s1h = s1h, s5 = s5, e5 = e5, vel = vel, reserved = reserved, count = count}
end

local function product_today(p)
  local v = redis.call('HGET', P .. ':revenue:day:' .. p, today)
  if v then redis.call('SET', P .. ':revenue:daily:' .. p, v, 'EX', day_left)
  else redis.call('DEL', P .. ':revenue:daily:' .. p) end
  return v
end

local function mtd()
  local v = tonumber(redis.call('HGET', P .. ':revenue:month', month) or '0')
  redis.call('SET', P .. ':revenue:mtd', int(v))
  return v
end

local function prune_agent(a)
  local m = redis.call('HKEYS', P .. ':spend:min:' .. a)
  for i = 1, #m do
    if tonumber(m[i]) <= now_min - 60 then
      redis.call('HDEL', P .. ':spend:min:' .. a, m[i])
      redis.call('HDEL', P .. ':errors:min:' .. a, m[i])
    end
  end
  local d = redis.call('HKEYS', P .. ':spend:day:' .. a)
  for i = 1, #d do
    if tonumber(d[i]) < tonumber(today) - 172800000000 then redis.call('HDEL', P .. ':spend:day:' .. a, d[i]) end
  end
end

local function add_spend(a, minute, day, cost, err)
  redis.call('SADD', P .. ':agents', a)
  if tonumber(minute) > now_min - 60 then
    redis.call('HINCRBY', P .. ':spend:min:' .. a, minute, cost)
    redis.call('EXPIRE', P .. ':spend:min:' .. a, MIN_TTL)
    if err ~= '0' then
      redis.call('HINCRBY', P .. ':errors:min:' .. a, minute, err)
      redis.call('EXPIRE', P .. ':errors:min:' .. a, MIN_TTL)
    end
  end
  redis.call('HINCRBY', P .. ':spend:day:' .. a, day, cost)
  redis.call('EXPIRE', P .. ':spend:day:' .. a, DAY_TTL)
end

local function add_revenue(p, day, mon, amount)
  redis.call('SADD', P .. ':products', p)
  redis.call('HINCRBY', P .. ':revenue:day:' .. p, day, amount)
  redis.call('EXPIRE', P .. ':revenue:day:' .. p, DAY_TTL)
  redis.call('HINCRBY', P .. ':revenue:month', mon, amount)
  redis.call('EXPIRE', P .. ':revenue:month', MONTH_TTL)
end

if op == 'apply' then
  -- records: L agent minute day cost errors reservation_id | R product day month amount
  local agents, products, revenue = {}, {}, false
  local i = 8
  while i <= #ARGV do
    if ARGV[i] == 'L' then
      local a = ARGV[i + 1]
      add_spend(a, ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5])
      if ARGV[i + 6] ~= '' then remove_resv(ARGV[i + 6]) end
      agents[a] = true
      i = i + 7
    else
      local p = ARGV[i + 1]
      add_revenue(p, ARGV[i + 2], ARGV[i + 3], ARGV[i + 4])
      products[p] = true
      revenue = true
      i = i + 5
    end
  end
  for a in pairs(agents) do prune_agent(a); agent_state(a) end
  for p in pairs(products) do product_today(p) end
  if revenue then mtd() end
  return 0

elseif op == 'check' then
  -- agent estimate limit('': none) reserve rid expires_us runaway absolute multiple floor gc_ttl
  local a, est, limit = ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10])  -- limit nil: none
  local reserve, rid = ARGV[11] == '1', ARGV[12]
  local s = agent_state(a, true)
  local out = {0, 0, 0, s.td, s.reserved, s.vel, idiv(s.s1h, 60)}
  -- Kill switches (P:pause, written by any node): seen by the next check.
  local paused = redis.call('HMGET', P .. ':pause', 'factory', 'agent:' .. a)
  if paused[1] then
    out[2] = 4
    return out
  end
  if paused[2] then
    out[2] = 3
    return out
  end
  if ARGV[14] == '1' then
    local absolute, multiple, floor = tonumber(ARGV[15]), tonumber(ARGV[16]), tonumber(ARGV[17])
    if (absolute > 0 and s.vel > absolute) or (s.vel > floor and s.s5 * 12 > multiple * s.s1h) then
      out[2] = 2
      return out
    end
  end
  if limit and (s.td >= limit or s.td + s.reserved + est > limit) then
    out[2] = 1
    return out
  end
  if reserve then
    local owner = redis.call('GET', P .. ':resv:id:' .. rid)
    if owner then
      local score = redis.call('ZSCORE', P .. ':resv:exp:' .. owner, rid)
      if score and tonumber(score) > now_us then
        out[1] = 1
        return out
      end
      remove_resv(rid)
    end
    local gc = tonumber(ARGV[18])
    redis.call('ZADD', P .. ':resv:exp:' .. a, ARGV[13], rid)
    redis.call('HSET', P .. ':resv:amt:' .. a, rid, ARGV[9])
    redis.call('INCRBY', P .. ':resv:sum:' .. a, ARGV[9])
    redis.call('SET', P .. ':resv:id:' .. rid, a, 'EX', gc)
    -- The three reservation keys of the agent always share one TTL (the
    -- longest), so they only lapse together, after every reservation did.
    -- (EXPIRE NX then GT: Redis >= 7.0; a key without a TTL gets one, a
    -- longer TTL is never shortened.)
    for _, k in ipairs({P .. ':resv:exp:' .. a, P .. ':resv:amt:' .. a, P .. ':resv:sum:' .. a}) do
      if redis.call('EXPIRE', k, gc, 'NX') == 0 then redis.call('EXPIRE', k, gc, 'GT') end
    end
    if s.count == 0 then redis.call('SADD', P .. ':agents', a) end
    out[3] = 1
    out[5] = s.reserved + est
  end
  return out

elseif op == 'agent' then
  local s = agent_state(ARGV[8])
  return {s.td, s.s1h, s.e5, s.vel, s.reserved, s.count}

elseif op == 'snapshot' then
  local agents = {}
  for _, a in ipairs(redis.call('SMEMBERS', P .. ':agents')) do
    local s = agent_state(a)
    for _, v in ipairs({a, s.td, s.s1h, s.e5, s.vel, s.reserved, s.count}) do agents[#agents + 1] = v end
  end
  local products = {}
  for _, p in ipairs(redis.call('SMEMBERS', P .. ':products')) do
    local v = product_today(p)
    if v then
      products[#products + 1] = p
      products[#products + 1] = tonumber(v)
    end
  end
  return {agents, products, mtd()}

elseif op == 'pause' then
  -- target ('factory' or agent:{id}) paused('1'|'0')
  if ARGV[9] == '1' then redis.call('HSET', P .. ':pause', ARGV[8], '1')
  else redis.call('HDEL', P .. ':pause', ARGV[8]) end
  return 0

elseif op == 'release' then
  remove_resv(ARGV[8])
  return 0

elseif op == 'rebuild' then
  -- Drop every counter (reservations stay), then write the recomputed ones:
  -- A agent nmin (minute cost errors)* nday (day cost)* | P product nday (day amount)* | M month amount
  -- | S target: a kill switch that is on (the store's list replaces P:pause)
  redis.call('DEL', P .. ':pause')
  for _, a in ipairs(redis.call('SMEMBERS', P .. ':agents')) do
    redis.call('DEL', P .. ':spend:min:' .. a, P .. ':errors:min:' .. a, P .. ':spend:day:' .. a,
               P .. ':spend:daily:' .. a, P .. ':spend:hourly:' .. a, P .. ':errors:5min:' .. a,
               P .. ':velocity:' .. a)
    if redis.call('EXISTS', P .. ':resv:amt:' .. a) == 0 then redis.call('SREM', P .. ':agents', a) end
  end
  for _, p in ipairs(redis.call('SMEMBERS', P .. ':products')) do
    redis.call('DEL', P .. ':revenue:day:' .. p, P .. ':revenue:daily:' .. p)
  end
  redis.call('DEL', P .. ':products', P .. ':revenue:month', P .. ':revenue:mtd')
  local i = 8
  while i <= #ARGV do
    local kind = ARGV[i]
    if kind == 'A' then
      local a = ARGV[i + 1]
      redis.call('SADD', P .. ':agents', a)
      local n = tonumber(ARGV[i + 2])
      i = i + 3
      for _ = 1, n do
        redis.call('HINCRBY', P .. ':spend:min:' .. a, ARGV[i], ARGV[i + 1])
        redis.call('EXPIRE', P .. ':spend:min:' .. a, MIN_TTL)
        if ARGV[i + 2] ~= '0' then
          redis.call('HINCRBY', P .. ':errors:min:' .. a, ARGV[i], ARGV[i + 2])
          redis.call('EXPIRE', P .. ':errors:min:' .. a, MIN_TTL)
        end
        i = i + 3
      end
      n = tonumber(ARGV[i])
      i = i + 1
      for _ = 1, n do
        redis.call('HINCRBY', P .. ':spend:day:' .. a, ARGV[i], ARGV[i + 1])
        redis.call('EXPIRE', P .. ':spend:day:' .. a, DAY_TTL)
        i = i + 2
      end
      agent_state(a)
    elseif kind == 'P' then
      local p = ARGV[i + 1]
      redis.call('SADD', P .. ':products', p)
      local n = tonumber(ARGV[i + 2])
      i = i + 3
      for _ = 1, n do
        redis.call('HINCRBY', P .. ':revenue:day:' .. p, ARGV[i], ARGV[i + 1])
        redis.call('EXPIRE', P .. ':revenue:day:' .. p, DAY_TTL)
        i = i + 2
      end
      product_today(p)
    elseif kind == 'S' then
      redis.call('HSET', P .. ':pause', ARGV[i + 1], '1')
      i = i + 2
    else
      redis.call('HINCRBY', P .. ':revenue:month', ARGV[i + 1], ARGV[i + 2])
      redis.call('EXPIRE', P .. ':revenue:month', MONTH_TTL)
      i = i + 3
    end
  end
  mtd()
  return 0
end
return redis.error_reply('tally live script: unknown op ' .. tostring(op))
)lua";

}  // namespace tally::live::redis
