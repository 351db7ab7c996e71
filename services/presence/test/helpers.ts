import { DEFAULT_ROOMS_STREAM, ensureRoomsStream } from '@crowncast/bus';
import {
  PRESENCE_HEARTBEAT_MAX_CONNECTIONS,
  PresenceChange,
  type PresenceConnection,
  type PresenceConnectionNotice,
  type PresenceHeartbeat,
  presenceChangesSubject,
  presenceSubject,
  RoomEvent,
} from '@crowncast/protocol';
import {
  cleanup,
  type Isolation,
  isolation,
  type RunningService,
  serviceEnv,
  spawnService,
  tokenFor,
} from '@crowncast/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';

export const PRESENCE_ENTRY = 'services/presence/src/server.ts';

/** A real presence process for this test file's isolation. */
export function startPresence(iso: Isolation, extra: Record<string, string> = {}): Promise<RunningService> {
  return spawnService(PRESENCE_ENTRY, serviceEnv(iso, { TICK_MS: '50', ROOM_WINDOW_MS: '200', ...extra }));
}

export async function natsFor(iso: Isolation): Promise<NatsConnection> {
  const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
  // The ledger creates ROOMS in production; here the test stands in for it.
  await ensureRoomsStream(nc, { ...DEFAULT_ROOMS_STREAM, name: iso.stream, prefix: iso.prefix });
  return nc;
}

export function conn(
  connectionId: string,
  userId: string,
  rooms: string[] = [],
  lastActivityAt = Date.now(),
): PresenceConnection {
  return { connectionId, userId, rooms: rooms as PresenceConnection['rooms'], lastActivityAt };
}

/** An edge as presence sees it: real NATS messages per the contract in packages/protocol/presence.ts. */
export function fakeEdge(nc: NatsConnection, prefix: string, edgeId: string) {
  const notice = (kind: 'connect' | 'disconnect' | 'rooms' | 'activity', c: PresenceConnection) => {
    const body: PresenceConnectionNotice = { edgeId, at: Date.now(), connection: c };
    nc.publish(presenceSubject(kind, edgeId, prefix), JSON.stringify(body));
  };
  return {
    edgeId,
    connect: (c: PresenceConnection) => notice('connect', c),
    disconnect: (c: PresenceConnection) => notice('disconnect', c),
    rooms: (c: PresenceConnection) => notice('rooms', c),
    activity: (c: PresenceConnection) => notice('activity', c),
    /** One heartbeat round: every connection, in chunks of at most 2,000. */
    heartbeat(conns: PresenceConnection[], intervalMs: number, sentAt = Date.now()) {
      const size = PRESENCE_HEARTBEAT_MAX_CONNECTIONS;
      const chunks = Math.max(1, Math.ceil(conns.length / size));
      for (let chunk = 0; chunk < chunks; chunk++) {
        const body: PresenceHeartbeat = {
          edgeId,
          intervalMs,
          sentAt,
          chunk,
          chunks,
          connections: conns.slice(chunk * size, (chunk + 1) * size),
        };
        nc.publish(presenceSubject('heartbeat', edgeId, prefix), JSON.stringify(body));
      }
    },
  };
}

export interface StoredEvent {
  seq: number;
  subject: string;
  msgId: string | undefined;
  event: RoomEvent;
}

/** Every event the ROOMS stream of this isolation holds (optionally only under one subject). */
export async function readStream(
  nc: NatsConnection,
  iso: Isolation,
  subject?: string,
): Promise<StoredEvent[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(iso.stream);
  const out: StoredEvent[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(iso.stream, { seq });
    if (!m || (subject && m.subject !== subject)) continue;
    out.push({
      seq,
      subject: m.subject,
      msgId: m.header?.get('Nats-Msg-Id'),
      event: RoomEvent.parse(m.json()),
    });
  }
  return out;
}

export async function api<T = unknown>(
  svc: RunningService,
  path: string,
  opts: { method?: string; body?: unknown; user?: string; token?: string | null } = {},
): Promise<{ status: number; body: T }> {
  const token = opts.token === undefined ? await tokenFor(opts.user ?? 'viewer') : opts.token;
  const res = await fetch(`${svc.url}${path}`, {
    method: opts.method ?? 'GET',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

export interface UserView {
  userId: string;
  status: string;
  devices: number;
  lastActiveAt: string | null;
  lastSeenAt: string | null;
}

export async function user(svc: RunningService, userId: string): Promise<UserView> {
  const r = await api<{ data: UserView }>(svc, `/presence/users/${userId}`);
  if (r.status !== 200) throw new Error(`GET user ${userId}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.data;
}

/** Polls until check passes (it throws or returns false while not yet). */
export async function eventually<T>(
  check: () => Promise<T | false>,
  timeoutMs = 5000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await check();
      if (v !== false) return v;
      if (Date.now() > deadline) throw new Error('condition not met');
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Reads one counter (summing its label sets that match) from a presence process's /metrics. */
export async function metric(svc: RunningService, name: string, labels: Record<string, string> = {}) {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})?\s+([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

export interface PresenceFixture {
  iso: Isolation;
  nc: NatsConnection;
  svc: RunningService;
  /** Every presence.changes message seen since the file started. */
  changes: PresenceChange[];
}

/**
 * The usual file setup: an isolation, a NATS connection with the ROOMS stream, a presence.changes
 * recorder and one presence process; all torn down after the file. Read the fields inside tests.
 */
export function usePresence(env: Record<string, string> = {}): PresenceFixture {
  const fx = { iso: isolation(), changes: [] as PresenceChange[] } as PresenceFixture;
  beforeAll(async () => {
    fx.nc = await natsFor(fx.iso);
    fx.nc.subscribe(presenceChangesSubject(fx.iso.prefix), {
      callback: (_e, m) => {
        fx.changes.push(PresenceChange.parse(m.json()));
      },
    });
    fx.svc = await startPresence(fx.iso, env);
  });
  afterAll(async () => {
    await fx.svc?.stop();
    await fx.nc?.close();
    await cleanup(fx.iso);
  });
  return fx;
}

/** The club rooms' events only (member connected/disconnected), leaving out users' private rooms. */
export async function readClubEvents(nc: NatsConnection, iso: Isolation): Promise<StoredEvent[]> {
  return (await readStream(nc, iso)).filter((e) => e.subject.startsWith(`${iso.prefix}room.club.`));
}
