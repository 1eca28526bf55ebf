/**
 * The Lua scripts `RedisBroker` runs. Each is one atomic step inside Redis, and each touches only
 * the two keys of one stream (passed as KEYS, sharing a hash tag), so they run unchanged on
 * Redis Cluster.
 *
 * Per stream:
 * - `KEYS[1]` meta, a hash: `epoch` (random, names this life of the history), `base` (the seq
 *   the epoch started after) and `seq` (the last seq given out).
 * - `KEYS[2]` history, a Redis Stream whose entry ids are `<seq>-0`, with the fields, in this
 *   order, `i` (event id), `t` (publish time, ms, Redis clock) and `b` (body). Lua reads them by
 *   position: `entry[2][2]` is the id, `[4]` the time, `[6]` the body.
 *
 * A new epoch starts at the Redis clock in microseconds, so seqs keep increasing across epochs
 * (a Redis that restarted empty, deleted keys) as long as a stream averaged under one event per
 * microsecond, and stay below 2^53 until the year 2255.
 */
import { createHash } from 'node:crypto';

export interface LuaScript {
  readonly source: string;
  readonly sha1: string;
}

function lua(source: string): LuaScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

/**
 * Publish: start an epoch if the stream has none, take the next seq, append, trim, announce.
 * ARGV: candidate epoch, has-id ('1'/'0'), id, body, maxLen (-1: none), maxAgeMs (-1: none),
 * channel, and the command that announces ('PUBLISH', or 'SPUBLISH' for sharded pub/sub, whose
 * channel shares the stream's hash tag and so its slot). Returns {id, seq, time, epoch}, numbers as decimal strings.
 */
export const PUBLISH = lua(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[1]
  local base = string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2]))
  -- History written under an epoch nobody remembers cannot be trusted: start it afresh.
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'base', base, 'seq', base)
end
local seq = string.format('%.0f', redis.call('HINCRBY', KEYS[1], 'seq', 1))
local time = string.format('%.0f', now)
local id = ARGV[3]
if ARGV[2] == '0' then id = seq .. '-' .. epoch end
local maxLen = tonumber(ARGV[5])
if maxLen >= 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', maxLen, seq .. '-0', 'i', id, 't', time, 'b', ARGV[4])
else
  redis.call('XADD', KEYS[2], seq .. '-0', 'i', id, 't', time, 'b', ARGV[4])
end
local maxAge = tonumber(ARGV[6])
if maxAge >= 0 then
  -- Drop entries older than maxAge from the front. The entry just added is fresh, so this ends;
  -- the cap only bounds the work if the history is huge.
  local cutoff = now - maxAge
  for _ = 1, 10000 do
    local batch = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 100)
    local keep = nil
    for _, e in ipairs(batch) do
      if tonumber(e[2][4]) >= cutoff then keep = e[1] break end
    end
    if keep then
      redis.call('XTRIM', KEYS[2], 'MINID', keep)
      break
    end
    if #batch == 0 then break end
    for _, e in ipairs(batch) do redis.call('XDEL', KEYS[2], e[1]) end
  end
  -- A stream nobody publishes to does not stay in Redis: its history goes with its last event,
  -- its epoch a day later (until then an old id still reads as 'expired', not 'unknown').
  redis.call('PEXPIRE', KEYS[2], maxAge)
  redis.call('PEXPIRE', KEYS[1], maxAge + 86400000)
end
redis.call(ARGV[8], ARGV[7], seq .. '\\n' .. epoch .. '\\n' .. time .. '\\n' .. id .. '\\n' .. ARGV[4])
return {id, seq, time, epoch}
`);

/**
 * Read for live catch-up: the stream's head and the entries after a seq, a page at a time.
 * ARGV: the epoch the caller knows ('' if none), the seq after which to read ('' for the head
 * only), the most entries to return.
 * Returns {epoch|nil, base|nil, seq|nil, entries}; when the epoch is not the caller's, entries
 * are the oldest held. Entries are contiguous, so a last entry below the head means more follow.
 */
export const READ = lua(`
local m = redis.call('HMGET', KEYS[1], 'epoch', 'base', 'seq')
if not m[1] then return {false, false, false, {}} end
if ARGV[2] == '' then return {m[1], m[2], m[3], {}} end
local from = '-'
if m[1] == ARGV[1] then from = '(' .. ARGV[2] .. '-0' end
return {m[1], m[2], m[3], redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', ARGV[3])}
`);

/**
 * Resume: find the event a client last saw and return what follows it.
 * ARGV: the Last-Event-ID, the seq it names if it has the broker's form ('' otherwise), the epoch
 * it names ('' otherwise). Publisher-chosen ids (and ids of another epoch, in case a publisher's
 * id merely looks like ours) are searched newest first.
 * Returns {epoch|nil, now, found entry id|nil, found time|nil, entries after it (or all held)}.
 */
export const HISTORY = lua(`
local t = redis.call('TIME')
local now = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return {false, now, false, false, {}} end
local found = nil
if ARGV[2] ~= '' then
  local e = redis.call('XRANGE', KEYS[2], ARGV[2] .. '-0', ARGV[2] .. '-0')[1]
  if e and e[2][2] == ARGV[1] then found = e end
end
if not found and ARGV[3] ~= epoch then
  local upto = '+'
  for _ = 1, 100000 do
    local batch = redis.call('XREVRANGE', KEYS[2], upto, '-', 'COUNT', 256)
    for _, e in ipairs(batch) do
      if e[2][2] == ARGV[1] then found = e break end
    end
    if found or #batch < 256 then break end
    upto = '(' .. batch[#batch][1]
  end
end
if found then
  return {epoch, now, found[1], found[2][4], redis.call('XRANGE', KEYS[2], '(' .. found[1], '+')}
end
return {epoch, now, false, false, redis.call('XRANGE', KEYS[2], '-', '+')}
`);
