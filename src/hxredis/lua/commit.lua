#!lua
-- Atomic Folio commit: check every diff, then apply all of them, or none.
-- KEYS: recs, mods, ver, changes, his-gc, the commit's cancel key, then the tag index sets
--   named by the diffs.
-- ARGV: source, stream max length, the commit's token, diff count, then per diff:
--   op ('a' add, 'u' update, 'r' remove), id, base mod (the stored mod the new record was
--   computed from; '' for an add), new mod, Trio text, #tags added, #tags removed,
--   then the KEYS positions of the added and of the removed tags' index sets.
-- The token goes into the change stream entry; a commit whose cancel key exists (set by
-- resolve.lua after its reply was lost) does nothing and returns {'cancelled'}.
-- Returns {'ok', version, stream id} or the first failure:
--   {'exists', id} | {'notfound', id} | {'stale', id, stored mod} | {'gc', id}
--   | {'badkey', key, type}: a key of the database holds the wrong type (nothing written)
local recs, mods, ver_key, changes, gc = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local source, maxlen, token, count = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])

if redis.call('EXISTS', KEYS[6]) == 1 then return {'cancelled'} end

-- Every write below must succeed once it starts: check the types first.
local expected = {'hash', 'hash', 'string', 'stream', 'set', 'string'}
for k = 1, #KEYS do
  local kind = redis.call('TYPE', KEYS[k])['ok']
  if kind ~= 'none' and kind ~= (expected[k] or 'set') then return {'badkey', KEYS[k], kind} end
end

local diffs = {}
local at = 5
for d = 1, count do
  local op, id, base = ARGV[at], ARGV[at + 1], ARGV[at + 2]
  local added, removed = tonumber(ARGV[at + 5]), tonumber(ARGV[at + 6])
  diffs[d] = {op = op, id = id, mod = ARGV[at + 3], trio = ARGV[at + 4],
              first = at + 7, added = added, removed = removed}
  at = at + 7 + added + removed
  if op == 'a' then
    if redis.call('HEXISTS', recs, id) == 1 then return {'exists', id} end
    if redis.call('SISMEMBER', gc, id) == 1 then return {'gc', id} end
  else
    local stored = redis.call('HGET', mods, id)
    if not stored then return {'notfound', id} end
    if stored ~= base then return {'stale', id, stored} end
  end
end

local ids = {}
for d = 1, count do
  local diff = diffs[d]
  if diff.op == 'r' then
    redis.call('HDEL', recs, diff.id)
    redis.call('HDEL', mods, diff.id)
    redis.call('SADD', gc, diff.id)
  else
    redis.call('HSET', recs, diff.id, diff.trio)
    redis.call('HSET', mods, diff.id, diff.mod)
  end
  local last_added = diff.first + diff.added - 1
  for k = diff.first, last_added do
    redis.call('SADD', KEYS[tonumber(ARGV[k])], diff.id)
  end
  for k = last_added + 1, last_added + diff.removed do
    redis.call('SREM', KEYS[tonumber(ARGV[k])], diff.id)
  end
  ids[d] = diff.id
end

local version = redis.call('INCR', ver_key)
local entry = redis.call('XADD', changes, 'MAXLEN', '~', maxlen, '*',
                         'v', version, 'src', source, 'tok', token,
                         'ids', table.concat(ids, ' '))
return {'ok', version, entry}
