-- Sorted-set backend: score = epoch ms, member = '<epoch ms>:<code>', one member per
-- timestamp (a write removes the member at its timestamp first).
local B = {type = 'zset'}

function B.create() end

function B.clear(lo, hi)
  redis.call('ZREMRANGEBYSCORE', main, lo and ms(lo) or '-inf', hi and ms(hi) or '+inf')
end

function B.remove(ts) B.clear(ts, ts) end

function B.put(ts, code)
  local t = ms(ts)
  redis.call('ZREMRANGEBYSCORE', main, t, t)
  redis.call('ZADD', main, t, t .. ':' .. code)
end

local function decode(members)
  local out = {}
  for i, m in ipairs(members) do
    local ts, code = split(m)
    out[i] = {ts, code}
  end
  return out
end

function B.range(lo, hi, count)
  local from, to = lo and ms(lo) or '-inf', hi and ms(hi) or '+inf'
  if count > 0 then
    return decode(redis.call('ZRANGEBYSCORE', main, from, to, 'LIMIT', 0, count))
  end
  return decode(redis.call('ZRANGEBYSCORE', main, from, to))
end

function B.revrange(hi, count)
  return decode(redis.call('ZREVRANGEBYSCORE', main, hi and ms(hi) or '+inf', '-inf',
    'LIMIT', 0, count))
end

function B.size() return redis.call('ZCARD', main) end

-- entries {epoch ms, member} from first to last (epoch ms), ascending
function B.members(first, last)
  local out = {}
  for i, m in ipairs(redis.call('ZRANGEBYSCORE', main, ms(first), ms(last))) do
    out[i] = {split(m), m}
  end
  return out
end

function B.drop(member) redis.call('ZREM', main, member) end
