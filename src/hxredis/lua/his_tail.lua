-- The operations, on the backend B defined above.
local kind = key_type(main)
if kind ~= 'none' and kind ~= B.type then return {'backend', kind} end

if op == 'read' then
  if kind == 'none' then return {'ok'} end
  local out = {'ok'}
  local function emit(samples)
    for _, s in ipairs(samples) do
      out[#out + 1] = s[1]
      out[#out + 1] = s[2]
    end
  end
  local limit = tonumber(ARGV[5])
  local clip = nil
  if ARGV[6] ~= '' then clip = tonumber(ARGV[6]) end
  local function upto(hi)
    if clip and (not hi or clip < hi) then return clip end
    return hi
  end
  if ARGV[3] == '' then
    emit(B.range(nil, clip, limit))
    return out
  end
  local lo, hi = tonumber(ARGV[3]), tonumber(ARGV[4])
  emit(B.revrange(upto(lo - 1), 1))
  local top = upto(hi)
  if lo <= top then emit(B.range(lo, top, limit)) end
  top = upto(nil)
  if not top or hi + 1 <= top then emit(B.range(hi + 1, top, 2)) end
  return out
end

if redis.call('HEXISTS', recs, id) == 0 or redis.call('SISMEMBER', gc, id) == 1 then
  if op == 'finish' then redis.call('DEL', main, side) end
  return {'gone'}
end

if op == 'prepare' then
  -- ARGV[3]: the sorted timestamps of the bulk write: 'r' then runs (start, step, count) or
  -- 's' then each timestamp, int64 little-endian; entries already at those timestamps that
  -- the bulk commands would not replace are dropped here
  if kind == 'none' then
    B.create()
    return {'ok'}
  end
  local blob = ARGV[3]
  local runs = blob:sub(1, 1) == 'r'
  local size = runs and 24 or 8
  local n = math.floor((#blob - 1) / size)
  if n <= 0 then return {'ok'} end
  local function run(j)  -- start, step, count of run j (a timestamp is a run of one)
    if runs then
      local s, step, c = struct.unpack('<i8i8i8', blob, (j - 1) * size + 2)
      return s, step, c
    end
    return (struct.unpack('<i8', blob, (j - 1) * size + 2)), 1, 1
  end
  local j, s, step, c = 1, run(1)
  local ls, lstep, lc = run(n)
  for _, entry in ipairs(B.members(s, ls + lstep * (lc - 1))) do
    local t = entry[1]
    while s + step * (c - 1) < t and j < n do
      j = j + 1
      s, step, c = run(j)
    end
    if t >= s and t <= s + step * (c - 1) and (t - s) % step == 0 then B.drop(entry[2]) end
  end
  return {'ok'}
end

if op == 'write' then
  if ARGV[3] == '1' then
    redis.call('DEL', main, side)
    has_side = false
    kind = 'none'
  end
  if kind == 'none' then B.create() end
  if ARGV[4] ~= '' then B.clear(tonumber(ARGV[4]), tonumber(ARGV[5])) end
  local at = 7
  for _ = 1, tonumber(ARGV[6]) do
    local ts, code = tonumber(ARGV[at]), ARGV[at + 1]
    if code == '' then B.remove(ts) else B.put(ts, code) end
    at = at + 2
  end
end

-- the summary: size, first and last sample, published to every Folio
local size = 0
if key_type(main) ~= 'none' then size = B.size() end
local version = redis.call('INCR', ver)
local summary = ms(version) .. '|0'
if size == 0 then
  redis.call('DEL', main, side)
  redis.call('HDEL', sums, id)
else
  local first, last = B.range(nil, nil, 1)[1], B.revrange(nil, 1)[1]
  summary = table.concat({ms(version), ms(size), ms(first[1]), ms(last[1]), #first[2]}, '|')
    .. '|' .. first[2] .. last[2]
  redis.call('HSET', sums, id, summary)
end
redis.call('XADD', changes, 'MAXLEN', '~', 10000, '*', 'id', id, 's', summary)
return {'ok', summary}
