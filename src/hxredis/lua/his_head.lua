#!lua
-- History of one point: the head shared by both backends (then his_<backend>.lua, then
-- his_tail.lua).  Codes are described in hxredis/his/codes.py.
-- KEYS: main (the series or sorted set), side (TimeSeries only: the side set), recs, his-gc,
--       his-sums, his-changes, his-ver
-- ARGV[1]: record id; ARGV[2]: 'write' | 'read' | 'prepare' | 'finish'; the rest per op
--   write:  clear_all ('1'/'0'), clear_lo, clear_hi ('' when no clear; epoch ms inclusive),
--           n, then n pairs (epoch ms, code); the code '' removes the sample
--   read:   lo, hi ('' for the whole history; epoch ms inclusive), limit (0: none),
--           clip (epoch ms; '' for none)
--   prepare: ARGV[3] the bulk write's sorted timestamps ('r' + runs of int64 little-endian
--            start, step, count; or 's' + each timestamp): create the history if needed,
--            drop entries at those timestamps the bulk commands would not replace (bulk
--            writes run it first inside their MULTI)
--   finish: publish the summary (bulk writes run it last inside their MULTI)
-- Replies: {'ok', summary} | {'ok', flat ts, code, ts, code ...} for read
--   | {'backend', type}: the point's data is in the other backend (nothing done)
--   | {'gone'}: the record was removed (nothing written; 'finish' deletes the history)
local main, side, recs, gc, sums, changes, ver = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5],
  KEYS[6], KEYS[7]
local id, op = ARGV[1], ARGV[2]
local has_side = false  -- TimeSeries: whether the side set exists

local function key_type(key) return redis.call('TYPE', key)['ok'] end

-- 'member' of a sorted set is '<epoch ms>:<code>': the timestamp and the code
local function split(member)
  local ts, code = string.match(member, '^(%-?%d+):(.*)$')
  return tonumber(ts), code
end

local function ms(n) return string.format('%d', n) end
