import { type Isolation, serviceUrls } from '@crowncast/testkit';
import { type JsMsg, jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import postgres from 'postgres';
import { type Audit, audit } from './admin.js';
import type { Gifter } from './gifter.js';
import type { Member } from './member.js';
import { sleep } from './stack.js';

/** Every event id the ROOMS stream holds, by room ("club:x"), in stream order. */
export async function streamIdsByRoom(
  iso: Isolation,
): Promise<{ byRoom: Map<string, string[]>; dupes: number }> {
  const nc = await connect({ servers: serviceUrls.nats });
  const byRoom = new Map<string, string[]>();
  const seen = new Set<string>();
  let dupes = 0;
  try {
    const js = jetstream(nc);
    const consumer = await js.consumers.get(iso.stream);
    const total = (await consumer.info(true)).num_pending;
    let n = 0;
    if (total > 0) {
      const iter = await consumer.consume();
      for await (const m of iter as AsyncIterable<JsMsg>) {
        n++;
        const room = m.subject.slice(iso.prefix.length + 'room.'.length).replace('.', ':');
        const id = (m.json() as { id: string }).id;
        if (seen.has(id)) dupes++;
        seen.add(id);
        const list = byRoom.get(room) ?? [];
        list.push(id);
        byRoom.set(room, list);
        if (n >= total) break;
      }
      await iter.close();
    }
  } finally {
    await nc.close();
  }
  return { byRoom, dupes };
}

/** What PostgreSQL says was committed, read straight from the ledger's schema. */
export async function committedFacts(iso: Isolation) {
  const sql = postgres(serviceUrls.database, { max: 1, onnotice: () => {} });
  try {
    const s = sql(iso.schema);
    const gifts = await sql<
      { id: string }[]
    >`SELECT id FROM ${s}.gift_transactions WHERE context_type = 'club'`;
    const outbox = await sql<{ event_id: string; room: string; published: boolean }[]>`
      SELECT event_id, room, published_at IS NOT NULL AS published FROM ${s}.outbox WHERE room LIKE 'club:%'`;
    return { giftIds: new Set(gifts.map((g) => g.id)), outbox };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function unpublishedCount(iso: Isolation): Promise<number> {
  const sql = postgres(serviceUrls.database, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM ${sql(iso.schema)}.outbox WHERE published_at IS NULL`;
    return row?.n ?? 0;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export interface Verdict {
  giftsSent: number;
  committed: number;
  answered200: number;
  refused: number;
  abandoned: number;
  /** 200 answers whose gift is not in PostgreSQL (must be 0). */
  ok200NotCommitted: number;
  /** Committed events (outbox rows) missing from the stream (must be 0). */
  notInStream: number;
  streamDuplicates: number;
  eventsExpected: number;
  eventsDelivered: number;
  eventsDuplicated: number;
  membersMissing: number;
  gaps: number;
  resyncs: number;
  audit: Audit;
  statuses: Record<string, number>;
}

/** Waits until the outbox is published and every member holds its room's events (bounded). */
export async function settle(iso: Isolation, members: Member[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (await unpublishedCount(iso).catch(() => 1)) > 0) await sleep(200);
  const { byRoom } = await streamIdsByRoom(iso);
  const complete = () =>
    members.every((m) => m.joined && (byRoom.get(m.room) ?? []).every((id) => m.ids.has(id)));
  while (Date.now() < deadline && !complete()) await sleep(200);
}

/** Compares what was asked, what committed, what the stream holds and what each member got. */
export async function verify(iso: Isolation, ledgerUrl: string, gifter: Gifter, members: Member[]) {
  const { giftIds, outbox } = await committedFacts(iso);
  const { byRoom, dupes } = await streamIdsByRoom(iso);
  const inStream = new Set([...byRoom.values()].flat());
  let expected = 0;
  let delivered = 0;
  let membersMissing = 0;
  for (const m of members) {
    const want = byRoom.get(m.room) ?? [];
    const got = want.filter((id) => m.ids.has(id)).length;
    expected += want.length;
    delivered += got;
    if (got < want.length) membersMissing++;
  }
  const ok = gifter.gifts.filter((g) => g.outcome === 'committed');
  const v: Verdict = {
    giftsSent: gifter.gifts.length,
    committed: giftIds.size,
    answered200: ok.length,
    refused: gifter.count('refused'),
    abandoned: gifter.count('abandoned'),
    ok200NotCommitted: ok.filter((g) => !g.txId || !giftIds.has(g.txId)).length,
    notInStream: outbox.filter((r) => !inStream.has(r.event_id)).length,
    streamDuplicates: dupes,
    eventsExpected: expected,
    eventsDelivered: delivered,
    eventsDuplicated: members.reduce((s, m) => s + m.duplicates, 0),
    membersMissing,
    gaps: members.reduce((s, m) => s + m.gaps, 0),
    resyncs: members.reduce((s, m) => s + m.resyncs, 0),
    audit: await audit(ledgerUrl),
    statuses: { ...gifter.statuses },
  };
  return v;
}

/** The list of broken promises in a verdict (empty when everything held). */
export function violations(v: Verdict): string[] {
  const out: string[] = [];
  if (v.ok200NotCommitted) out.push(`${v.ok200NotCommitted} gifts answered 200 but not committed`);
  if (v.answered200 > v.committed) out.push(`${v.answered200} answered 200 > ${v.committed} committed`);
  if (v.notInStream) out.push(`${v.notInStream} committed events never reached the stream`);
  if (v.streamDuplicates) out.push(`${v.streamDuplicates} duplicate events in the stream`);
  if (v.eventsDelivered < v.eventsExpected) {
    out.push(
      `${v.eventsExpected - v.eventsDelivered} events not delivered (${v.membersMissing} members short)`,
    );
  }
  if (v.eventsDuplicated) out.push(`${v.eventsDuplicated} events delivered twice`);
  if (v.resyncs) out.push(`${v.resyncs} resync:required`);
  if (v.abandoned) out.push(`${v.abandoned} gifts never got a final answer`);
  if (v.audit.totalSum !== 0) out.push(`crown sum ${v.audit.totalSum} != 0`);
  if (v.audit.negativeBalances !== 0) out.push(`${v.audit.negativeBalances} negative balances`);
  if (v.audit.circulating !== v.audit.issued)
    out.push(`circulating ${v.audit.circulating} != issued ${v.audit.issued}`);
  return out;
}
