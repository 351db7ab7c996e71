import { type Room, roomSubject } from '@crowncast/protocol';
import {
  cleanup,
  isolation,
  type RunningService,
  serviceEnv,
  spawnService,
  tokenFor,
} from '@crowncast/testkit';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, natsConnect, readStream } from './harness.js';

/** Real ledger processes, really killed: committed events survive and reach the stream exactly once. */
const ENTRY = 'services/ledger/src/server.ts';
const iso = isolation();
const env = serviceEnv(iso, {
  GIFT_RATE_LIMIT_PER_MIN: '100000',
  GIFT_SPAM_SAME_PER_MIN: '100000',
  RELAY_POLL_MS: '50',
});
const sql = postgres(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', {
  max: 2,
  onnotice: () => {},
  connection: { search_path: iso.schema },
});
let nc: NatsConnection;
const running: RunningService[] = [];

async function start(extra: Record<string, string> = {}) {
  const s = await spawnService(ENTRY, { ...env, ...extra });
  running.push(s);
  return s;
}

async function outboxCount(published: boolean) {
  const [r] = await sql<
    { n: number }[]
  >`SELECT count(*)::int AS n FROM outbox WHERE (published_at IS NOT NULL) = ${published}`;
  return r!.n;
}

beforeAll(async () => {
  nc = await natsConnect();
  const first = await start();
  const api = client(first.url);
  await api.gift('g_rose', 20);
  for (const u of ['s1', 's2', 's3', 'r1']) await api.user(u, 100_000);
  await api.club('club1', ['s1', 's2', 's3']);
  await eventually(async () => (await outboxCount(false)) === 0);
  await first.stop('SIGTERM');
}, 60_000);

afterAll(async () => {
  for (const s of running) await s.stop('SIGKILL');
  await nc?.close();
  await sql.end({ timeout: 5 });
  await cleanup(iso);
});

describe('a ledger killed between commit and publish', () => {
  it('publishes every committed event after restart, none twice, even those a dead relay had already sent', async () => {
    const before = (await readStream(nc, iso.stream)).length;
    // A process without a relay commits gifts: their events wait in the outbox.
    const writer = await start({ RELAY_ENABLED: 'false' });
    const token = await tokenFor('s1');
    for (let i = 0; i < 20; i++) {
      const r = await client(writer.url).call('POST', '/clubs/club1/gifts/send', {
        token,
        body: { giftId: 'g_rose' },
      });
      expect(r.status).toBe(200);
    }
    await writer.stop('SIGKILL');
    const pending = await sql<{ event_id: string; room: Room; envelope: string }[]>`
      SELECT event_id, room, envelope FROM outbox WHERE published_at IS NULL ORDER BY batch_id, position`;
    // Each club gift: gift:received to the club and wallet:balance_updated to the sender.
    expect(pending.length).toBe(40);

    // A relay that died after publishing the first 15 but before marking them leaves exactly this.
    const js = jetstream(nc);
    for (const row of pending.slice(0, 15)) {
      await js.publish(roomSubject(row.room, iso.prefix), row.envelope, {
        msgID: row.event_id,
      });
    }

    const restarted = await start();
    await eventually(async () => (await outboxCount(false)) === 0, 15_000);
    const stream = (await readStream(nc, iso.stream)).slice(before);
    expect(stream.map((m) => m.event.id)).toEqual(pending.map((p) => p.event_id));
    await restarted.stop('SIGTERM');
  });

  it('loses no gift answered 200 and commits none twice when killed mid-load and retried with the same keys', async () => {
    const before = await readStream(nc, iso.stream);
    const txBefore = (await sql<{ id: string }[]>`SELECT id FROM gift_transactions`).length;
    let victim = await start();
    const tokens = { s1: await tokenFor('s1'), s2: await tokenFor('s2'), s3: await tokenFor('s3') };
    const answered = new Map<string, string>(); // key -> giftTransactionId
    let target = victim.url;
    const send = async (key: string, sender: keyof typeof tokens) => {
      for (let attempt = 0; attempt < 100; attempt++) {
        try {
          const r = await client(target).call<{ giftTransactionId: string }>('POST', '/gifts/send', {
            token: tokens[sender],
            key,
            body: { giftId: 'g_rose', recipientType: 'user', recipientId: 'r1' },
          });
          if (r.status === 200 && r.body.success) {
            const prior = answered.get(key);
            if (prior) expect(r.body.data.giftTransactionId).toBe(prior);
            answered.set(key, r.body.data.giftTransactionId);
            return;
          }
          expect(r.status, JSON.stringify(r.body)).toBeGreaterThanOrEqual(500);
        } catch {
          // connection refused or reset: the process is dead; retry with the same key
        }
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error(`gift ${key} never succeeded`);
    };
    const load = (async () => {
      const senders = Object.keys(tokens) as (keyof typeof tokens)[];
      await Promise.all(
        senders.map(async (s) => {
          for (let i = 0; i < 40; i++) await send(`${s}-${i}`, s);
        }),
      );
    })();
    await new Promise((res) => setTimeout(res, 400));
    await victim.stop('SIGKILL');
    victim = await start();
    target = victim.url;
    await load;

    expect(answered.size).toBe(120);
    const txs = await sql<{ id: string }[]>`SELECT id FROM gift_transactions`;
    expect(txs.length - txBefore).toBe(120);
    for (const id of answered.values()) expect(txs.some((t) => t.id === id)).toBe(true);

    await eventually(async () => (await outboxCount(false)) === 0, 15_000);
    const stream = (await readStream(nc, iso.stream)).slice(before.length);
    const ids = stream.map((m) => m.event.id);
    expect(new Set(ids).size).toBe(ids.length);
    const gifts = stream.filter((m) => m.event.type === 'gift:received');
    // A 1:1 gift is shown in both users' rooms.
    expect(gifts.length).toBe(240);
    for (const id of answered.values()) {
      expect(
        gifts.filter((g) => g.event.type === 'gift:received' && g.event.data.giftTransactionId === id).length,
      ).toBe(2);
    }
    const audit = await client(victim.url).audit();
    expect(audit.totalSum).toBe(0);
    expect(audit.negativeBalances).toBe(0);
  });
});
