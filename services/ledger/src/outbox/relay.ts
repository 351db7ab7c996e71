import { type Room, roomSubject } from '@crowncast/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { Sql, TransactionSql } from 'postgres';
import type { createAckedPublisher } from './acks.js';
import { decodeEvents } from './batch.js';

export interface RelayOptions {
  sql: Sql;
  /** Publishes a round and collects JetStream's acks (see acks.ts). */
  publisher: ReturnType<typeof createAckedPublisher>;
  /** A round whose acks have not all come back by then fails and is sent again (dedup drops repeats). */
  ackTimeoutMs: number;
  log: FastifyBaseLogger;
  schema: string;
  prefix: string;
  channel: string;
  batch: number;
  pollMs: number;
  retentionHours: number;
  onPublished?: (count: number) => void;
}

export interface Relay {
  /** Resolves once the relay loop has stopped (a publish round in progress finishes first). */
  stop(): Promise<void>;
  /** True while this process holds the relay lock. */
  readonly active: boolean;
}

interface BatchRow {
  id: number;
  /** The transaction's events, in publish order (see batch.ts). */
  events: string;
  /** Events in this row and every pending row before it. */
  upto: number;
}

/** Any constant: one active relay per schema, whatever the number of ledger replicas. */
const RELAY_LOCK = 7_340_002;
const PURGE_EVERY_MS = 60_000;
const HELD_RETRY_MS = 10;

/**
 * Publishes committed outbox rows to JetStream in id order, with Nats-Msg-Id = event id so a
 * re-publish after a crash is dropped by the stream. A row is marked published only after its ack.
 * It reads pending rows in id order and stops at the first row of a transaction not older than
 * every running one (xid >= snapshot xmin), so a transaction that commits late can never have its
 * rows overtaken in a room.
 */
export function startRelay(o: RelayOptions): Relay {
  let running = true;
  let active = false;
  let wake: (() => void) | null = null;
  let kicked = false;
  const kick = () => {
    kicked = true;
    wake?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (kicked || !running) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wake = null;
        resolve();
      }
      wake = done;
    });

  const listening = o.sql.listen(o.channel, kick).catch((err) => {
    o.log.warn({ err }, 'outbox relay: LISTEN failed; polling only');
    return null;
  });

  const loop = (async () => {
    let lastPurge = 0;
    while (running) {
      try {
        kicked = false;
        // Each round is one short transaction holding a transaction-scoped lock: one relay at a time
        // across replicas, and no long-lived connection that a PostgreSQL restart could leave hanging.
        const round = await o.sql.begin(async (tx) => {
          const [row] = await tx<{ locked: boolean }[]>`
            SELECT pg_try_advisory_xact_lock(${RELAY_LOCK}, hashtext(${o.schema})) AS locked`;
          return row?.locked
            ? { locked: true, ...(await publishRound(tx, o)) }
            : { locked: false, published: 0, more: false, held: false };
        });
        if (round.locked !== active) o.log.info({ active: round.locked }, 'outbox relay');
        active = round.locked;
        if (active && Date.now() - lastPurge > PURGE_EVERY_MS) {
          lastPurge = Date.now();
          await purge(o.sql, o.retentionHours);
        }
        // Rows held back wait for an older transaction that may never NOTIFY (it wrote no event):
        // look again shortly rather than at the next poll.
        if (!active) await sleep(o.pollMs);
        else if (round.held) await sleep(Math.min(HELD_RETRY_MS, o.pollMs));
        else if (!round.more) await sleep(o.pollMs);
      } catch (err) {
        o.log.warn({ err: (err as Error).message }, 'outbox relay round failed; retrying');
        active = false;
        await sleep(Math.min(1000, o.pollMs));
      }
    }
    active = false;
  })();

  return {
    get active() {
      return active;
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      await (await listening)?.unlisten().catch(() => undefined);
    },
  };
}

/**
 * Publishes one round. `more`: it stopped at the size bound with rows still waiting; `held`: it
 * stopped at a row it must still hold back (worth another look soon, not only at the next NOTIFY).
 */
async function publishRound(
  conn: TransactionSql,
  o: RelayOptions,
): Promise<{ published: number; more: boolean; held: boolean }> {
  // Whole transactions in id order, up to about `batch` events (always at least one), and only the
  // pending rows BEFORE the first one still held back (xid not older than every running
  // transaction). Filtering held-back rows out one by one would let a later row of the same room
  // overtake one: a transaction can take its xid before another, commit after it, and so pass the
  // xid test while the earlier row still fails it (outbox-batches.test.ts builds exactly that).
  // The cut is made here on the first rows in id order, so a round costs the same with a backlog of
  // a million rows as with ten.
  const fetched = await conn<(BatchRow & { held: boolean })[]>`
    SELECT id, events, upto::int, held FROM (
      SELECT id, events, event_count, sum(event_count) OVER (ORDER BY id) AS upto,
             xid >= pg_snapshot_xmin(pg_current_snapshot()) AS held
      FROM outbox_batches WHERE published_at IS NULL
      ORDER BY id LIMIT ${o.batch}
    ) r WHERE upto - event_count < ${o.batch} ORDER BY id`;
  const firstHeld = fetched.findIndex((r) => r.held);
  const rows = firstHeld < 0 ? fetched : fetched.slice(0, firstHeld);
  const held = firstHeld >= 0;
  if (rows.length === 0) return { published: 0, more: false, held };
  const batches = rows.map((r) => ({ id: r.id, events: decodeEvents(r.events) }));
  // One connection, plain publishes in order: the stream stores them in this order.
  const { acked, failure } = await o.publisher.publishAll(
    batches.flatMap((b) =>
      b.events.map((e) => ({
        subject: roomSubject(e.room as Room, o.prefix),
        data: e.envelope,
        msgId: e.eventId,
      })),
    ),
    o.ackTimeoutMs,
  );
  // A row is marked only when every one of its events was acked; the rest go again next round
  // (the stream's dedup window drops the repeats).
  const done: typeof batches = [];
  let left = acked;
  for (const b of batches) {
    if (left < b.events.length) break;
    left -= b.events.length;
    done.push(b);
  }
  const events = done.flatMap((b) => b.events);
  if (done.length) {
    const gifts = events
      .filter((e) => e.type === 'gift:received')
      .map((e) => e.eventId.split('.')[0] as string);
    const globals = events
      .filter((e) => e.type === 'gift:global:announcement')
      .map((e) => e.eventId.split('.')[0] as string);
    // Independent of each other and idempotent, inside the round's transaction: they go out together
    // in one round trip.
    await Promise.all([
      conn`UPDATE outbox_batches SET published_at = now() WHERE id = ANY(${done.map((b) => b.id)})`,
      gifts.length
        ? conn`
            UPDATE gift_transactions SET websocket_broadcast_status = 'sent', websocket_broadcast_at = COALESCE(websocket_broadcast_at, now())
            WHERE id = ANY(${gifts}) AND websocket_broadcast_status <> 'sent'`
        : null,
      globals.length
        ? conn`UPDATE gift_transactions SET global_announcement_sent = true, global_announcement_at = now() WHERE id = ANY(${globals})`
        : null,
    ]);
    o.onPublished?.(events.length);
  }
  if (failure) throw new Error(`publish to JetStream failed: ${failure}`);
  return { published: events.length, more: !held && (rows.at(-1)?.upto ?? 0) >= o.batch, held };
}

async function purge(conn: Sql, hours: number) {
  await conn`DELETE FROM outbox_batches WHERE published_at < now() - make_interval(hours => ${hours})`;
  await conn`DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => ${hours})`;
}

/** Events committed and not yet published, and the age of the oldest (for /metrics). */
export async function outboxLag(sql: Sql): Promise<{ pending: number; oldestAgeSec: number }> {
  const [row] = await sql<{ pending: number; age: number | null }[]>`
    SELECT COALESCE(sum(event_count), 0)::int AS pending, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS age
    FROM outbox_batches WHERE published_at IS NULL`;
  return { pending: row?.pending ?? 0, oldestAgeSec: row?.age ?? 0 };
}
