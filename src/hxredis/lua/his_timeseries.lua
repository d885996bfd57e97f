-- RedisTimeSeries backend.  Timestamps are stored as epoch ms + OFFSET (ms from 1900 to 1970),
-- since the module takes no negative timestamps; values it cannot hold (see codes.py) are a 0
-- placeholder in the series plus the member '<stored ts>:<code>' in the side set, so the
-- series alone answers every range and count question.
local OFFSET = 2208988800000
local B = {type = 'TSDB-TYPE'}

-- the module answers some strings as status replies, which reach Lua as {ok = text}
local function text(v)
  if type(v) == 'table' then return v['ok'] end
  return v
end
has_side = redis.call('EXISTS', side) == 1

function B.create() redis.call('TS.CREATE', main, 'DUPLICATE_POLICY', 'LAST') end

local function bounds(lo, hi)
  local from, to = '-', '+'
  if lo then from = ms(math.max(lo + OFFSET, 0)) end
  if hi then
    if hi + OFFSET < 0 then return nil end
    to = ms(hi + OFFSET)
  end
  return from, to
end

function B.clear(lo, hi)
  local from, to = bounds(lo, hi)
  if not from then return end
  redis.call('TS.DEL', main, from, to)
  if has_side then redis.call('ZREMRANGEBYSCORE', side, from, to) end
end

function B.remove(ts) B.clear(ts, ts) end

function B.put(ts, code)
  local t = ms(ts + OFFSET)
  if string.find(code, '^%-?%d') then
    redis.call('TS.ADD', main, t, code)
    if has_side then redis.call('ZREMRANGEBYSCORE', side, t, t) end
  else
    redis.call('TS.ADD', main, t, 0)
    redis.call('ZREMRANGEBYSCORE', side, t, t)
    redis.call('ZADD', side, t, t .. ':' .. code)
    has_side = true
  end
end

-- samples {stored ts, value} as {epoch ms, code}, side set codes replacing placeholders
local function decode(samples)
  local out = {}
  local special = {}
  if has_side and #samples > 0 then
    local first, last = samples[1][1], samples[#samples][1]
    if first > last then first, last = last, first end
    for _, m in ipairs(redis.call('ZRANGEBYSCORE', side, first, last)) do
      local ts, code = split(m)
      special[ts] = code
    end
  end
  for i, s in ipairs(samples) do out[i] = {s[1] - OFFSET, special[s[1]] or text(s[2])} end
  return out
end

function B.range(lo, hi, count)
  local from, to = bounds(lo, hi)
  if not from then return {} end
  if count > 0 then return decode(redis.call('TS.RANGE', main, from, to, 'COUNT', count)) end
  return decode(redis.call('TS.RANGE', main, from, to))
end

function B.revrange(hi, count)
  local from, to = bounds(nil, hi)
  if not from then return {} end
  return decode(redis.call('TS.REVRANGE', main, from, to, 'COUNT', count))
end

function B.size()
  local info = redis.call('TS.INFO', main)
  for i = 1, #info, 2 do
    if text(info[i]) == 'totalSamples' then return info[i + 1] end
  end
  return 0
end

-- side set entries {epoch ms, member} from first to last (epoch ms), ascending
function B.members(first, last)
  local out = {}
  if not has_side then return out end
  for i, m in ipairs(redis.call('ZRANGEBYSCORE', side, ms(first + OFFSET), ms(last + OFFSET))) do
    out[i] = {split(m) - OFFSET, m}
  end
  return out
end

function B.drop(member) redis.call('ZREM', side, member) end
