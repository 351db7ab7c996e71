import { RoomEvent } from '@crowncast/protocol';
import { type JsMsg, jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TEST_ADMIN_TOKEN } from './isolation.js';
import { tokenFor } from './tokens.js';

/**
 * The ledger as tests and benchmarks drive it: its REST API over real HTTP, the admin API for the
 * setup a host app would do, and the ROOMS stream read back for checks.
 */
export interface Reply<T = unknown> {
  status: number;
  body:
    | { success: true; data: T }
    | { success: false; error: { code: string; message: string; details?: unknown } };
}

/** A tiny HTTP client over fetch: the real interface, no injection. */
export function ledgerApi(baseUrl: string) {
  const call = async <T = unknown>(
    method: string,
    path: string,
    opts: {
      token?: string;
      admin?: boolean;
      body?: unknown;
      key?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Reply<T>> => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.admin) headers['x-admin-token'] = TEST_ADMIN_TOKEN;
    if (opts.key) headers['idempotency-key'] = opts.key;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(baseUrl + path, {
      method,
      headers,
      ...(opts.body !== undefined
        ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }
        : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : (undefined as never) };
  };
  const admin = async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
    const r = await call<T>(method, path, { admin: true, body });
    if (!r.body.success) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.data;
  };
  return {
    call,
    admin,
    async user(id: string, crowns = 0) {
      await admin('PUT', `/admin/users/${id}`, {
        username: id.toUpperCase(),
        avatar: `/a/${id}.png`,
        tier: 'gold',
        level: 3,
      });
      if (crowns > 0) await admin('POST', `/admin/users/${id}/grants`, { amount: crowns, reason: 'test' });
      return tokenFor(id);
    },
    async club(id: string, members: string[], levels?: { name: string; target: number }[]) {
      await admin('PUT', `/admin/clubs/${id}`, { name: `Club ${id}` });
      for (const m of members) await admin('PUT', `/admin/clubs/${id}/members/${m}`);
      if (levels) await admin('PUT', `/admin/clubs/${id}/threshold-levels`, { levels });
    },
    async game(id: string, players: string[]) {
      await admin('PUT', `/admin/games/${id}`, { name: `Game ${id}` });
      for (const p of players) await admin('PUT', `/admin/games/${id}/players/${p}`);
    },
    async gift(id: string, price: number, rarity: 'common' | 'rare' | 'epic' | 'legendary' = 'common') {
      await admin('PUT', `/admin/gifts/${id}`, {
        name: id,
        icon: '🎁',
        category: price >= 2000 ? 'ultra' : price >= 150 ? 'premium' : 'basic',
        rarity,
        price,
        animationUrl: `/anim/${id}.json`,
        audioUrl: `/audio/${id}.mp3`,
        animationDurationMs: 3000,
      });
    },
    audit: () =>
      admin<{ totalSum: number; circulating: number; issued: number; negativeBalances: number }>(
        'GET',
        '/admin/audit',
      ),
  };
}

export interface StreamedEvent {
  seq: number;
  subject: string;
  msgId: string | undefined;
  event: RoomEvent;
}

/** Every message of the test's ROOMS stream, in stream order, each validated by the protocol schema. */
export async function readStream(nc: NatsConnection, stream: string): Promise<StreamedEvent[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(stream);
  const out: StreamedEvent[] = [];
  const info = await consumer.info(true);
  const total = info.num_pending;
  if (total === 0) return out;
  const iter = await consumer.consume();
  for await (const m of iter as AsyncIterable<JsMsg>) {
    out.push({
      seq: m.seq,
      subject: m.subject,
      msgId: m.headers?.get('Nats-Msg-Id'),
      event: RoomEvent.parse(m.json()),
    });
    if (out.length >= total) break;
  }
  await iter.close();
  return out;
}

export async function natsConnect(): Promise<NatsConnection> {
  return connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
}

/** Polls until fn returns a truthy value or the deadline passes. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false | null>,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}
