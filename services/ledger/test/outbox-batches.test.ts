import { roomSubject } from '@crowncast/protocol';
import { cleanup, isolation, serviceEnv, spawnService } from '@crowncast/testkit';
import type { NatsConnection } from '@nats-io/transport-node';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.js';
import { decodeEvents, encodeEvents } from '../src/outbox/batch.js';
import { eventually, natsConnect, readStream } from './harness.js';

/** One outbox row per transaction (migration 004): the line format, and an upgrade that loses nothing. */
const iso = isolation();
const sql = postgres(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', {
  max: 5,
  onnotice: () => {},
  connection: { search_path: iso.schema },
});
let nc: NatsConnection;

/** Waits until the relay has published every event of the schema's outbox. */
function outboxDrained() {
  return eventually(async () => {
    const [r] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`;
    return r?.n === 0;
  }, 15_000);
}

function walletEnvelope(id: string, userId: string): string {
  const timestamp = new Date().toISOString();
  const data = {
    userId,
    balance: 10,
    previousBalance: 0,
    delta: 10,
    reason: 'grant',
    transactionId: id,
    timestamp,
  };
  return JSON.stringify({ type: 'wallet:balance_updated', id, ts: timestamp, data });
}

beforeAll(async () => {
  nc = await natsConnect();
});

afterAll(async () => {
  await nc?.close();
  await sql.end({ timeout: 5 });
  await cleanup(iso);
});

describe('outbox lines', () => {
  it('split back into exactly the events written, whatever the envelope holds', () => {
    const events = [
      {
        eventId: 'gtx_1.0',
        room: 'club:c1',
        type: 'gift:received',
        envelope: JSON.stringify({ m: 'tab\there\nnew line 🎁 \u2028' }),
      },
      { eventId: 'gtx_1.1', room: 'user:u1', type: 'wallet:balance_updated', envelope: '{"a":"\\t"}' },
    ];
    expect(decodeEvents(encodeEvents(events))).toEqual(events);
  });

  it('refuses an id or room holding a separator instead of writing a row that splits wrong', () => {
    const bad = { eventId: 'a\tb', room: 'club:c1', type: 't', envelope: '{}' };
    expect(() => encodeEvents([bad])).toThrow(/tab or a newline/);
    expect(() => encodeEvents([{ ...bad, eventId: 'ok', room: 'club:c1\n' }])).toThrow(/tab or a newline/);
  });
});

describe('upgrading from one row per event', () => {
  it('moves unpublished events over in order, and the relay publishes them once', async () => {
    await migrate(sql, iso.schema, { until: '003_outbox_text.sql' });
    await sql`
      INSERT INTO outbox (event_id, room, type, envelope, published_at) VALUES
        ('old.0', 'user:u1', 'wallet:balance_updated', ${walletEnvelope('old.0', 'u1')}, now()),
        ('old.1', 'user:u1', 'wallet:balance_updated', ${walletEnvelope('old.1', 'u1')}, NULL),
        ('old.2', 'user:u2', 'wallet:balance_updated', ${walletEnvelope('old.2', 'u2')}, NULL)`;

    const ledger = await spawnService(
      'services/ledger/src/server.ts',
      serviceEnv(iso, { RELAY_POLL_MS: '50' }),
    );
    try {
      await outboxDrained();
      const rows = await sql<{ event_id: string }[]>`SELECT event_id FROM outbox ORDER BY batch_id, position`;
      expect(rows.map((r) => r.event_id)).toEqual(['old.0', 'old.1', 'old.2']);
      const stream = await readStream(nc, iso.stream);
      // old.0 was published before the upgrade (by the old relay, into a stream this test never had).
      expect(stream.map((m) => [m.subject, m.event.id])).toEqual([
        [roomSubject('user:u1', iso.prefix), 'old.1'],
        [roomSubject('user:u2', iso.prefix), 'old.2'],
      ]);
    } finally {
      await ledger.stop('SIGTERM');
    }
  });
});

describe('relay order when transaction ids and commit order disagree', () => {
  it('never publishes a later row of a room before an earlier committed one it held back', async () => {
    // The ledger from the upgrade test above owns this schema; a relay of its own is started here.
    const ledger = await spawnService(
      'services/ledger/src/server.ts',
      serviceEnv(iso, { RELAY_POLL_MS: '20' }),
    );
    const before = (await readStream(nc, iso.stream)).length;
    const t1 = await sql.reserve();
    const t2 = await sql.reserve();
    const t3 = await sql.reserve();
    const row = (id: string) =>
      encodeEvents([
        { eventId: id, room: 'user:u9', type: 'wallet:balance_updated', envelope: walletEnvelope(id, 'u9') },
      ]);
    try {
      // T2 takes its xid first, T3 next, T1 last; T1 commits its row (the room's earlier event) first,
      // T2 its row (the room's later one) after, while T3 stays open: T2's xid is below every running
      // one, T1's is not.
      for (const t of [t2, t3, t1]) {
        await t`BEGIN`;
        await t`SELECT pg_current_xact_id()`;
      }
      await t1`INSERT INTO outbox_batches (events, event_count) VALUES (${row('order.1')}, 1)`;
      await t1`COMMIT`;
      await t2`INSERT INTO outbox_batches (events, event_count) VALUES (${row('order.2')}, 1)`;
      await t2`COMMIT`;
      await new Promise((r) => setTimeout(r, 300)); // several relay rounds with T3 still open
      await t3`ROLLBACK`;
      await outboxDrained();
      const stream = (await readStream(nc, iso.stream)).slice(before);
      expect(stream.map((m) => m.event.id)).toEqual(['order.1', 'order.2']);
    } finally {
      for (const t of [t1, t2, t3]) t.release();
      await ledger.stop('SIGTERM');
    }
  });
});
