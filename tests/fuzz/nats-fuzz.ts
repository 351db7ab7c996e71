import { randomUUID } from 'node:crypto';
import { liveRoomSubject, roomSubject } from '@crowncast/protocol';
import { Member } from '../lib/member.js';
import { rng } from './rest-cases.js';
import { moneySnapshot } from './rest-fuzz.js';
import type { WsFuzzRow } from './ws-fuzz.js';
import { edgeMetric, FuzzWorld, waitFor } from './ws-world.js';

/** Same columns as the WebSocket rows (`status_5xx`: failed readiness probes of the edges). */
export type NatsFuzzRow = WsFuzzRow;

type Rand = () => number;
const ts = () => new Date().toISOString();

/** Malformed envelopes by kind; `live` ones go straight to the live subject (no stream headers). */
const KINDS: Record<
  string,
  { live?: boolean; max?: number; make: (rand: Rand, id: string) => string | Uint8Array }
> = {
  'not JSON': {
    make: (rand) =>
      rand() < 0.5
        ? Uint8Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256))
        : '{"type":"club:message","id":"x","ts":',
  },
  'JSON, not an envelope': {
    make: (rand) => ['null', '[]', '42', '"club:message"', 'true', '{}'][Math.floor(rand() * 6)] as string,
  },
  'unknown type': { make: (_, id) => JSON.stringify({ type: 'gift:forged', id, ts: ts(), data: {} }) },
  'bad id or ts': {
    make: (rand, id) =>
      JSON.stringify(
        [
          { type: 'system:notice', ts: ts(), data: { message: 'no id' } },
          { type: 'system:notice', id: 'i'.repeat(129), ts: ts(), data: { message: 'long id' } },
          { type: 'system:notice', id, ts: 'yesterday', data: { message: 'bad ts' } },
          { type: 'system:notice', id, ts: 1700000000000, data: { message: 'numeric ts' } },
        ][Math.floor(rand() * 4)],
      ),
  },
  'wrong data': {
    make: (rand, id) =>
      JSON.stringify(
        [
          { type: 'gift:received', id, ts: ts(), data: { quantity: -1 } },
          { type: 'club:threshold:updated', id, ts: ts(), data: { clubId: 'a b' } },
          { type: 'system:notice', id, ts: ts(), data: { message: 'x'.repeat(2001) } },
          { type: 'wallet:balance_updated', id, ts: ts(), data: null },
          { type: 'club:message', id, ts: ts(), data: { userId: '../x', text: 'hi' } },
        ][Math.floor(rand() * 5)],
      ),
  },
  'huge (500 kB)': {
    // 50 of them already push 50 MB through each edge's NATS connection.
    max: 50,
    make: (_, id) =>
      JSON.stringify({ type: 'club:message', id, ts: ts(), data: { text: 'x'.repeat(500_000) } }),
  },
  'prototype pollution': {
    make: (_, id) =>
      `{"type":"system:notice","id":"${id}","ts":"${ts()}","data":{"message":1},"__proto__":{"polluted":1}}`,
  },
  'no stream headers (live subject)': {
    live: true,
    make: (_, id) =>
      JSON.stringify({ type: 'system:notice', id, ts: ts(), data: { message: 'unsequenced' } }),
  },
};

/**
 * Malformed envelopes published with plain NATS on a room's subjects, each kind between valid
 * events, against two real edges that both have a member in the room. Every malformed one must be
 * dropped and counted (crowncast_edge_invalid_envelopes_total, once per edge), none may reach a
 * socket, and every valid one must reach both members once, in order, with no gap.
 */
export async function runNatsFuzz(perKind: number, seed = Number(process.env.FUZZ_SEED ?? 1)) {
  const w = new FuzzWorld(2);
  const rows: NatsFuzzRow[] = [];
  try {
    await w.start(['watcher']);
    const second = new Member(w.user('watcher'), w.clubA, () => w.stack.edgeUrls(), { pick: 1 });
    await second.start();
    if (!(await waitFor(() => second.joined, 15_000))) throw new Error('second member did not join');
    const members = [w.bystander, second];
    const room = `club:${w.clubA}` as const;
    const invalid = async () => {
      let n = 0;
      for (const url of w.stack.edgeUrls())
        n += await edgeMetric(url, 'crowncast_edge_invalid_envelopes_total');
      return Number.isNaN(n) ? 0 : n;
    };
    const rand = rng(seed);
    w.startBackground(10);
    for (const [kind, k] of Object.entries(KINDS)) {
      const money = await moneySnapshot(w.iso.schema);
      const before = await invalid();
      const notReady = w.health.notReady;
      const badIds: string[] = [];
      const n = Math.min(perKind, k.max ?? perKind);
      for (let i = 0; i < n; i++) {
        const id = `bad-${randomUUID()}`;
        badIds.push(id);
        const subject = k.live ? liveRoomSubject(room, w.iso.prefix) : roomSubject(room, w.iso.prefix);
        w.nc.publish(subject, k.make(rand, id));
        if (rand() < 0.5) w.publishA();
      }
      w.publishA();
      await w.nc.flush();
      const want = before + n * members.length;
      await waitFor(async () => (await invalid()) >= want, 10_000, 100);
      const dropped = (await invalid()) - before;
      const short = (m: Member) => w.published.filter((id) => !m.ids.has(id)).length;
      await waitFor(() => members.every((m) => short(m) === 0), 10_000, 100);
      const leaked = badIds.filter((id) => members.some((m) => m.ids.has(id))).length;
      const row: NatsFuzzRow = {
        class: `NATS: ${kind}`,
        cases: n,
        outcomes: { 'dropped and counted': dropped, 'reached a socket': leaked },
        status_5xx: w.health.notReady - notReady,
        crowns_moved: 0,
        undocumented: [],
      };
      if (dropped !== n * members.length)
        row.undocumented.push(`counted ${dropped} drops, expected ${n * members.length}`);
      if (leaked) row.undocumented.push(`${leaked} malformed envelopes reached a socket`);
      const missing = members.map(short);
      if (missing.some((n) => n > 0)) row.undocumented.push(`valid events missing per member: ${missing}`);
      const after = await moneySnapshot(w.iso.schema);
      row.crowns_moved = after.sum - money.sum || after.n - money.n;
      rows.push(row);
    }
    await w.stopBackground();
    const figures = {
      validPublished: w.published.length,
      gaps: members.map((m) => m.gaps),
      duplicates: members.map((m) => m.duplicates),
      closes: members.map((m) => ({ ...m.closeCodes })),
    };
    await second.stop();
    return { rows, figures };
  } finally {
    await w.stop();
  }
}
