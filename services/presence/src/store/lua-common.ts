/**
 * Lua shared by every presence script. Each script runs atomically in Redis, so whichever replica
 * runs it is the only one that sees a given transition (first connection, last connection, status
 * change): that is what makes every presence event exactly-once across replicas.
 *
 * Keys (P = REDIS_PREFIX):
 *   P e:<edge>        hash connId → "userId|lastActivityAt|room,room"  (connections an edge holds)
 *   P e:<edge>:s      zset connId → edge sentAt of the last heartbeat listing it
 *   P edges           zset edgeId → deadline (presence clock, ms); past it the edge is dead
 *   P u:<user>        hash st (status), act (last activity), since, seen; expires 30 days after going offline
 *   P u:<user>:c      hash connId → edgeId
 *   P online          set of users with at least one connection
 *   P due             zset userId → when their status must be looked at again (idle/away timers)
 *   P r:<room>        zset userId (score 0, so pages are in id order) of users connected in room
 *   P r:<room>:n      hash userId → their connections in the room
 *   P pend:<room>     hash userId → "j|<ms>" or "l|<ms>": presence frames not yet published
 *   P pendrooms       zset room → when its pending frames are due
 *   P x:<connId>      tombstone of a closed connection
 *   P seq, P epoch    event id counter and a random id of this Redis dataset
 *
 * ARGV[1..6] of every script: prefix, now, idleMs, awayMs, roomWindowMs, missedHeartbeats.
 * Scripts return a flat list of status changes: "s", id, userId, previous, status, devices.
 */
export const LUA_COMMON = `
local P = ARGV[1]
local now = tonumber(ARGV[2])
local idleMs = tonumber(ARGV[3])
local awayMs = tonumber(ARGV[4])
local windowMs = tonumber(ARGV[5])
local missed = tonumber(ARGV[6])
local out = {}
-- An offline user's record (last seen) is forgotten after 30 days.
local LAST_SEEN_TTL_MS = 30 * 24 * 3600 * 1000

-- Ids are "<epoch>-<n>": the epoch is fixed when the dataset is first used, so ids never repeat
-- even if Redis loses its data (JetStream would drop a repeated Nats-Msg-Id as a duplicate).
local epoch = nil
local function nextId()
  if not epoch then
    epoch = redis.call('GET', P .. 'epoch')
    if not epoch then
      local t = redis.call('TIME')
      epoch = t[1] .. t[2]
      redis.call('SET', P .. 'epoch', epoch)
    end
  end
  return epoch .. '-' .. redis.call('INCR', P .. 'seq')
end

local function parse(v)
  local a = string.find(v, '|', 1, true)
  local b = string.find(v, '|', a + 1, true)
  return string.sub(v, 1, a - 1), tonumber(string.sub(v, a + 1, b - 1)), string.sub(v, b + 1)
end

local function roomSet(s)
  local t = {}
  for r in string.gmatch(s, '[^,]+') do t[r] = true end
  return t
end

local function statusOf(act, conns)
  if conns == 0 then return 'offline' end
  local age = now - act
  if age >= awayMs then return 'away' end
  if age >= idleMs then return 'idle' end
  return 'online'
end

-- Looks at a user again: records a status change once and re-arms the idle/away timer.
local function refresh(u)
  local uk = P .. 'u:' .. u
  local v = redis.call('HMGET', uk, 'st', 'act')
  local old = v[1] or 'offline'
  local act = tonumber(v[2]) or 0
  local n = redis.call('HLEN', uk .. ':c')
  local st = statusOf(act, n)
  if st ~= old then
    if st == 'offline' then
      redis.call('HSET', uk, 'st', st, 'since', now, 'seen', now)
      redis.call('PEXPIRE', uk, LAST_SEEN_TTL_MS)
      redis.call('SREM', P .. 'online', u)
    else
      redis.call('HSET', uk, 'st', st, 'since', now)
      if old == 'offline' then
        redis.call('PERSIST', uk)
        redis.call('SADD', P .. 'online', u)
      end
    end
    table.insert(out, 's'); table.insert(out, nextId()); table.insert(out, u)
    table.insert(out, old); table.insert(out, st); table.insert(out, tostring(n))
  end
  if st == 'online' then redis.call('ZADD', P .. 'due', act + idleMs, u)
  elseif st == 'idle' then redis.call('ZADD', P .. 'due', act + awayMs, u)
  else redis.call('ZREM', P .. 'due', u) end
end

-- A join and a leave of the same user in one window cancel out: a room that reconnects after an
-- edge restart sees nothing at all.
local function pend(room, u, kind)
  if string.sub(room, 1, 5) ~= 'club:' then return end
  local pk = P .. 'pend:' .. room
  local cur = redis.call('HGET', pk, u)
  if cur and string.sub(cur, 1, 1) ~= kind then
    redis.call('HDEL', pk, u)
  else
    redis.call('HSET', pk, u, kind .. '|' .. now)
  end
  redis.call('ZADD', P .. 'pendrooms', 'NX', now + windowMs, room)
end

local function roomAdd(room, u)
  if redis.call('HINCRBY', P .. 'r:' .. room .. ':n', u, 1) == 1 then
    redis.call('ZADD', P .. 'r:' .. room, 0, u)
    pend(room, u, 'j')
  end
end

local function roomDel(room, u)
  local nk = P .. 'r:' .. room .. ':n'
  if redis.call('HINCRBY', nk, u, -1) <= 0 then
    redis.call('HDEL', nk, u)
    redis.call('ZREM', P .. 'r:' .. room, u)
    pend(room, u, 'l')
  end
end

local function raise(u, act)
  if act > now then act = now end
  local uk = P .. 'u:' .. u
  local cur = tonumber(redis.call('HGET', uk, 'act')) or 0
  if act > cur then redis.call('HSET', uk, 'act', act) end
end

-- Fresh client activity on a known connection. The common case (an online user stays online) only
-- moves the idle timer: two commands instead of a full refresh.
local function active(u, act)
  if act > now then act = now end
  local uk = P .. 'u:' .. u
  local v = redis.call('HMGET', uk, 'st', 'act')
  local cur = tonumber(v[2]) or 0
  if act <= cur then return end
  redis.call('HSET', uk, 'act', act)
  if v[1] == 'online' and now - act < idleMs then
    redis.call('ZADD', P .. 'due', act + idleMs, u)
  else
    refresh(u)
  end
end

local function drop(edge, cid, old)
  local u, _, rs = parse(old)
  redis.call('HDEL', P .. 'e:' .. edge, cid)
  redis.call('ZREM', P .. 'e:' .. edge .. ':s', cid)
  redis.call('HDEL', P .. 'u:' .. u .. ':c', cid)
  for r in pairs(roomSet(rs)) do roomDel(r, u) end
  refresh(u)
end

-- Brings one connection to what the edge says (new value), given what Redis held (old or false).
local function apply(edge, cid, old, new, seenAt)
  if old == new then return end
  local u, act, rs = parse(new)
  if not old then
    if redis.call('EXISTS', P .. 'x:' .. cid) == 1 then return end
    redis.call('HSET', P .. 'e:' .. edge, cid, new)
    redis.call('ZADD', P .. 'e:' .. edge .. ':s', seenAt, cid)
    redis.call('HSET', P .. 'u:' .. u .. ':c', cid, edge)
    raise(u, act)
    for r in pairs(roomSet(rs)) do roomAdd(r, u) end
    refresh(u)
    return
  end
  local ou, oact, ors = parse(old)
  if ou ~= u then
    drop(edge, cid, old)
    apply(edge, cid, false, new, seenAt)
    return
  end
  redis.call('HSET', P .. 'e:' .. edge, cid, new)
  if ors ~= rs then
    local was, now_in = roomSet(ors), roomSet(rs)
    for r in pairs(now_in) do if not was[r] then roomAdd(r, u) end end
    for r in pairs(was) do if not now_in[r] then roomDel(r, u) end end
  end
  if act > oact then active(u, act) end
end
`;
