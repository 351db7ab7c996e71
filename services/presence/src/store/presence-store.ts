import type {
  PresenceConnectionNotice,
  PresenceHeartbeat,
  PresenceRoom,
  PresenceStatus,
  PresenceUser,
} from '@crowncast/protocol';
import type { Redis } from 'ioredis';
import { encodeConnection } from '../domain/connection.js';
import { type Outcome, parseOutcome } from '../domain/records.js';
import { LUA_DISCONNECT, LUA_GRACE, LUA_HEARTBEAT, LUA_NOTICE, LUA_TICK } from './lua-scripts.js';
import { loadScripts, run, script } from './scripts.js';

export interface Timings {
  idleMs: number;
  awayMs: number;
  roomWindowMs: number;
  framesPerWindow: number;
  missedHeartbeats: number;
  defaultHeartbeatMs: number;
  tombstoneMs: number;
}

export interface StoreDeps {
  redis: Redis;
  prefix: string;
  clock: () => number;
  timings: Timings;
}

const SCRIPTS = {
  heartbeat: script('heartbeat', LUA_HEARTBEAT),
  notice: script('notice', LUA_NOTICE),
  disconnect: script('disconnect', LUA_DISCONNECT),
  tick: script('tick', LUA_TICK),
  grace: script('grace', LUA_GRACE),
};

/** Limits of one sweeper run, so a single script never blocks Redis for long. */
const TICK_MAX_USERS = 1000;
const TICK_MAX_DEAD_CONNECTIONS = 1000;
const TICK_MAX_ROOMS = 200;

export type PresenceStore = ReturnType<typeof createPresenceStore>;

/** Presence state in Redis: writes go through the atomic scripts, reads are plain commands. */
export function createPresenceStore({ redis, prefix, clock, timings: t }: StoreDeps) {
  const common = (): (string | number)[] => [
    prefix,
    clock(),
    t.idleMs,
    t.awayMs,
    t.roomWindowMs,
    t.missedHeartbeats,
  ];
  const exec = async (s: (typeof SCRIPTS)[keyof typeof SCRIPTS], args: (string | number)[]) =>
    parseOutcome(await run(redis, s, [...common(), ...args]));

  return {
    load: () => loadScripts(redis, Object.values(SCRIPTS)),

    heartbeat(hb: PresenceHeartbeat): Promise<Outcome> {
      // A connection listed twice would be counted twice in its rooms: the last entry wins.
      const byId = new Map(hb.connections.map((c) => [c.connectionId, c]));
      const args: (string | number)[] = [hb.edgeId, hb.sentAt, hb.intervalMs];
      for (const c of byId.values()) args.push(c.connectionId, encodeConnection(c));
      return exec(SCRIPTS.heartbeat, args);
    },

    /** connect, rooms and activity notices all bring one connection up to date. */
    notice(n: PresenceConnectionNotice): Promise<Outcome> {
      const lease = t.defaultHeartbeatMs * t.missedHeartbeats;
      return exec(SCRIPTS.notice, [
        n.edgeId,
        n.at,
        n.connection.connectionId,
        encodeConnection(n.connection),
        lease,
      ]);
    },

    disconnect(n: PresenceConnectionNotice): Promise<Outcome> {
      return exec(SCRIPTS.disconnect, [n.edgeId, n.connection.connectionId, t.tombstoneMs]);
    },

    /** Run once at start: edges that expired while presence was down get one more lease. */
    async graceDeadEdges(): Promise<number> {
      const lease = t.defaultHeartbeatMs * t.missedHeartbeats;
      return Number(await run(redis, SCRIPTS.grace, [prefix, clock(), lease]));
    },

    tick(): Promise<Outcome> {
      return exec(SCRIPTS.tick, [
        TICK_MAX_USERS,
        TICK_MAX_DEAD_CONNECTIONS,
        TICK_MAX_ROOMS,
        t.framesPerWindow,
      ]);
    },

    async users(userIds: string[]): Promise<PresenceUser[]> {
      const p = redis.pipeline();
      for (const u of userIds) {
        p.hmget(`${prefix}u:${u}`, 'st', 'act', 'seen');
        p.hlen(`${prefix}u:${u}:c`);
      }
      const res = (await p.exec()) ?? [];
      const now = clock();
      return userIds.map((userId, i) => {
        const [err1, fields] = res[2 * i] ?? [];
        const [err2, devices] = res[2 * i + 1] ?? [];
        if (err1 || err2) throw err1 ?? err2;
        const [st, act, seen] = (fields as (string | null)[]) ?? [];
        const n = Number(devices ?? 0);
        const status = (n > 0 ? (st ?? 'online') : 'offline') as PresenceStatus;
        const iso = (ms: string | null | undefined | number) =>
          ms ? new Date(Number(ms)).toISOString() : null;
        return {
          userId,
          status,
          devices: n,
          lastActiveAt: iso(act),
          lastSeenAt: n > 0 ? iso(now) : iso(seen),
        };
      });
    },

    async room(room: string, limit: number, cursor?: string): Promise<PresenceRoom> {
      const key = `${prefix}r:${room}`;
      const [online, ids] = await Promise.all([
        redis.zcard(key),
        redis.zrangebylex(key, cursor ? `(${cursor}` : '-', '+', 'LIMIT', 0, limit + 1),
      ]);
      const page = ids.slice(0, limit);
      const statuses = page.length
        ? await redis.pipeline(page.map((u) => ['hget', `${prefix}u:${u}`, 'st'])).exec()
        : [];
      return {
        room: room as PresenceRoom['room'],
        online,
        members: page.map((userId, i) => ({
          userId,
          status: ((statuses?.[i]?.[1] as string | null) ?? 'online') as PresenceStatus,
        })),
        nextCursor: ids.length > limit ? (page[page.length - 1] ?? null) : null,
      };
    },

    onlineCount: () => redis.scard(`${prefix}online`),

    /** Users online in each room, in one round trip. */
    async roomsOnline(rooms: string[]): Promise<number[]> {
      const replies = await redis.pipeline(rooms.map((r) => ['zcard', `${prefix}r:${r}`])).exec();
      return (replies ?? []).map(([, n]) => Number(n ?? 0));
    },
  };
}
