import { LUA_COMMON } from './lua-common.js';

/**
 * The four presence scripts. ARGV[1..6] are the common arguments (see lua-common.ts); the rest is
 * named at the top of each script.
 */

/** ARGV[7] edge, [8] sentAt (edge clock), [9] intervalMs, then pairs connId, encoded connection. */
export const LUA_HEARTBEAT = `${LUA_COMMON}
local edge = ARGV[7]
local sentAt = tonumber(ARGV[8])
local interval = tonumber(ARGV[9])
local ek = P .. 'e:' .. edge
local first = 10
local n = (#ARGV - first + 1) / 2
if n > 0 then
  local cids = {}
  for i = 1, n do cids[i] = ARGV[first + 2 * (i - 1)] end
  -- One HMGET for the whole chunk: an unchanged connection costs nothing more.
  local olds = redis.call('HMGET', ek, unpack(cids))
  local seen = {}
  for i = 1, n do
    if olds[i] then seen[#seen + 1] = sentAt; seen[#seen + 1] = cids[i] end
    apply(edge, cids[i], olds[i], ARGV[first + 2 * (i - 1) + 1], sentAt)
  end
  if #seen > 0 then redis.call('ZADD', ek .. ':s', unpack(seen)) end
end
redis.call('ZADD', P .. 'edges', now + interval * missed, edge)
-- A connection the edge stopped listing (its disconnect notice was lost) goes after the same
-- number of intervals; compared on the edge's own clock.
local stale = redis.call('ZRANGEBYSCORE', ek .. ':s', '-inf', '(' .. (sentAt - interval * missed), 'LIMIT', 0, 500)
for _, cid in ipairs(stale) do
  local old = redis.call('HGET', ek, cid)
  if old then drop(edge, cid, old) else redis.call('ZREM', ek .. ':s', cid) end
end
return out
`;

/** connect / rooms / activity: ARGV[7] edge, [8] at (edge clock), [9] connId, [10] encoded, [11] leaseMs. */
export const LUA_NOTICE = `${LUA_COMMON}
local edge = ARGV[7]
local at = tonumber(ARGV[8])
local cid = ARGV[9]
local ek = P .. 'e:' .. edge
local old = redis.call('HGET', ek, cid)
apply(edge, cid, old, ARGV[10], at)
if old then redis.call('ZADD', ek .. ':s', 'GT', at, cid) end
-- A notice proves the edge is alive too.
redis.call('ZADD', P .. 'edges', 'GT', now + tonumber(ARGV[11]), edge)
return out
`;

/** ARGV[7] edge, [8] connId, [9] tombstoneMs. */
export const LUA_DISCONNECT = `${LUA_COMMON}
local edge = ARGV[7]
local cid = ARGV[8]
redis.call('SET', P .. 'x:' .. cid, '1', 'PX', tonumber(ARGV[9]))
local old = redis.call('HGET', P .. 'e:' .. edge, cid)
if old then drop(edge, cid, old) end
return out
`;

/**
 * The sweeper, run by every replica; each piece of work is claimed inside the script, so two
 * replicas never do the same. ARGV[7] max users, [8] max connections of a dead edge, [9] max rooms,
 * [10] frames per room window.
 * Extra records: "r", id, room, userId, j|l, ms (a frame to publish); "o", room, joins, leaves,
 * online (frames over budget, summarised); "d", edge (a dead edge fully drained); "m", 0|1 (more
 * work is waiting).
 */
export const LUA_TICK = `${LUA_COMMON}
local maxUsers, maxConns, maxRooms, frames = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local more = 0
local due = redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', now, 'LIMIT', 0, maxUsers)
for _, u in ipairs(due) do refresh(u) end
if #due == maxUsers then more = 1 end

local dead = redis.call('ZRANGEBYSCORE', P .. 'edges', '-inf', '(' .. now, 'LIMIT', 0, 1)
for _, edge in ipairs(dead) do
  local ek = P .. 'e:' .. edge
  local cids = redis.call('ZRANGE', ek .. ':s', 0, maxConns - 1)
  for _, cid in ipairs(cids) do
    local old = redis.call('HGET', ek, cid)
    if old then drop(edge, cid, old) else redis.call('ZREM', ek .. ':s', cid) end
  end
  if #cids < maxConns then
    redis.call('ZREM', P .. 'edges', edge)
    redis.call('DEL', ek, ek .. ':s')
    table.insert(out, 'd'); table.insert(out, edge)
  end
  more = 1
end

local rooms = redis.call('ZRANGEBYSCORE', P .. 'pendrooms', '-inf', now, 'LIMIT', 0, maxRooms)
for _, room in ipairs(rooms) do
  redis.call('ZREM', P .. 'pendrooms', room)
  local pk = P .. 'pend:' .. room
  local items = redis.call('HGETALL', pk)
  redis.call('DEL', pk)
  local sent, joins, leaves = 0, 0, 0
  for i = 1, #items, 2 do
    local kind = string.sub(items[i + 1], 1, 1)
    if sent < frames then
      sent = sent + 1
      table.insert(out, 'r'); table.insert(out, nextId()); table.insert(out, room)
      table.insert(out, items[i]); table.insert(out, kind); table.insert(out, string.sub(items[i + 1], 3))
    elseif kind == 'j' then joins = joins + 1 else leaves = leaves + 1 end
  end
  if joins + leaves > 0 then
    table.insert(out, 'o'); table.insert(out, room); table.insert(out, tostring(joins))
    table.insert(out, tostring(leaves)); table.insert(out, tostring(redis.call('ZCARD', P .. 'r:' .. room)))
  end
end
if #rooms == maxRooms then more = 1 end
table.insert(out, 'm'); table.insert(out, tostring(more))
return out
`;

/**
 * On start: edges whose deadline passed while no presence replica ran get one more lease, so a
 * restart after downtime does not log every user off until their edges' next heartbeat.
 * ARGV[1] prefix, [2] now, [3] leaseMs.
 */
export const LUA_GRACE = `
local P, now, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local dead = redis.call('ZRANGEBYSCORE', P .. 'edges', '-inf', '(' .. now)
for _, e in ipairs(dead) do redis.call('ZADD', P .. 'edges', now + lease, e) end
return #dead
`;
