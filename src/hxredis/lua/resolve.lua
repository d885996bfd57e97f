-- Settle the outcome of a commit whose reply was lost: was it applied?
-- KEYS: changes (the change stream), the commit's cancel key.
-- ARGV: the commit's token, a stream entry id older than the commit ('0-0': from the start),
--   how long to keep the cancel key (ms).
-- Returns {'applied', version, stream id} when the commit's entry is in the stream; else
-- marks the token cancelled, so that the commit script, should it still arrive, refuses to
-- run, and returns {'cancelled'}, or {'unknown'} when the stream no longer reaches back to
-- `since` (trimmed or lost), so the entry might have been there.
local changes, cancel = KEYS[1], KEYS[2]
local token, since, ttl = ARGV[1], ARGV[2], ARGV[3]

local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end

local start = '-'
if since ~= '0-0' then start = '(' .. since end
for _, entry in ipairs(redis.call('XRANGE', changes, start, '+')) do
  if field(entry[2], 'tok') == token then
    return {'applied', tonumber(field(entry[2], 'v')), entry[1]}
  end
end

local reaches_back
if since ~= '0-0' then
  reaches_back = #redis.call('XRANGE', changes, '-', since, 'COUNT', 1) == 1
else
  local first = redis.call('XRANGE', changes, '-', '+', 'COUNT', 1)
  reaches_back = #first == 0 or field(first[1][2], 'v') == '1'
end
redis.call('SET', cancel, '1', 'PX', ttl)
if reaches_back then return {'cancelled'} end
return {'unknown'}
