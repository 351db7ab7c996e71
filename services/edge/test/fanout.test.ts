import {
  animationPlayedSubject,
  deliveryReportSubject,
  presenceSubject,
  roomSubject,
} from '@crowncast/protocol';
import { cleanup, isolation, type RunningService, tokenFor } from '@crowncast/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, assertChain, Client, metric, sendClubGift, startEdge, startLedger } from './helpers.js';

const iso = isolation();
let ledger: RunningService;
let edgeA: RunningService;
let edgeB: RunningService;
let nc: NatsConnection;
const clients: Client[] = [];
const seen: { subject: string; body: unknown }[] = [];

async function join(edge: RunningService, user: string, clubId: string, opts: { protocol?: string } = {}) {
  const c = Client.connect(edge.url, { token: await tokenFor(user), ...opts });
  clients.push(c);
  await c.frame('connected');
  const r = await c.request('club:join', { clubId });
  return { c, r };
}

function notice(id: string, message: string) {
  return JSON.stringify({ type: 'system:notice', id, ts: new Date().toISOString(), data: { message } });
}

beforeAll(async () => {
  ledger = await startLedger(iso);
  [edgeA, edgeB] = await Promise.all([
    startEdge(iso, {
      EDGE_ID: 'edge-a',
      BATCH_WINDOW_MS: '0',
      PRESENCE_INTERVAL_MS: '300',
      ANALYTICS_FLUSH_MS: '100',
    }),
    startEdge(iso, { EDGE_ID: 'edge-b', BATCH_WINDOW_MS: '40' }),
  ]);
  const a = admin(ledger);
  await a.gift('g1');
  for (const u of ['alice', 'bob', 'carol', 'erin']) await a.user(u);
  await a.grant('alice', 100_000);
  await a.club('c1');
  for (const u of ['alice', 'bob', 'carol']) await a.member('c1', u);
  nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
  for (const subject of [
    `${iso.prefix}presence.>`,
    deliveryReportSubject(iso.prefix),
    animationPlayedSubject(iso.prefix),
  ]) {
    nc.subscribe(subject, {
      callback: (_e, m) => {
        seen.push({ subject: m.subject, body: m.json() });
      },
    });
  }
}, 40_000);

afterAll(async () => {
  for (const c of clients) await c.close();
  await nc?.close();
  await Promise.all([edgeA?.stop(), edgeB?.stop(), ledger?.stop()]);
  await cleanup(iso);
});

describe('fan-out across two edges', () => {
  let alice: Client;
  let bobA: Client;
  let bobB: Client;
  let carol: Client;
  let erin: Client;

  it('a gift sent by REST reaches every member socket on both edges once, in order, never a non-member', async () => {
    ({ c: alice } = await join(edgeA, 'alice', 'c1'));
    const bob1 = await join(edgeA, 'bob', 'c1');
    const bob2 = await join(edgeB, 'bob', 'c1');
    ({ c: carol } = await join(edgeB, 'carol', 'c1'));
    const e = await join(edgeA, 'erin', 'c1');
    bobA = bob1.c;
    bobB = bob2.c;
    erin = e.c;
    expect(bob1.r).toMatchObject({ type: 'ack', for: 'club:join', data: { room: 'club:c1' } });
    expect(e.r).toMatchObject({ type: 'error', code: 'NOT_A_MEMBER', room: 'club:c1' });

    const token = await tokenFor('alice');
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) sent.push((await sendClubGift(ledger, token, 'c1', 'g1')).giftTransactionId);

    for (const c of [alice, bobA, bobB, carol]) {
      const gifts = await c.until(() => {
        const g = c.events('club:c1').filter((f) => f.type === 'gift:received');
        return g.length >= 5 && g;
      });
      expect(gifts.map((g) => (g.data as { giftTransactionId: string }).giftTransactionId)).toEqual(sent);
      const all = c.events('club:c1');
      expect(new Set(all.map((f) => f.id)).size).toBe(all.length);
      assertChain(all);
    }
    // Erin's own room (user:erin) is hers; nothing of club:c1 ever reaches her.
    await new Promise((r) => setTimeout(r, 300));
    expect(erin.events('club:c1')).toEqual([]);
    expect(erin.frames.some((f) => JSON.stringify(f).includes('club:c1') && f.type !== 'error')).toBe(false);
  });

  it('frames each event once and writes the same bytes to every member socket', async () => {
    // Edge A has no batching window: one frame per event, shared by alice and bob's first device.
    const clubFrames = (c: Client) => c.raw.filter((b) => b.includes('"room":"club:c1"'));
    expect(clubFrames(alice).length).toBeGreaterThanOrEqual(5);
    expect(clubFrames(bobA)).toEqual(clubFrames(alice));
    // Every room frame edge A wrote, counted once per event whatever the number of sockets.
    const seqs = new Set<number>();
    for (const c of [alice, bobA, erin]) for (const f of c.events()) seqs.add(f.seq as number);
    expect(await metric(edgeA, 'crowncast_edge_frames_built_total', 'encoding="json"')).toBe(seqs.size);
    expect(await metric(edgeA, 'crowncast_edge_frames_out_total', 'kind="room"')).toBeGreaterThan(seqs.size);
  });

  it('delivers a valid envelope an internal service publishes with plain NATS; drops and counts an invalid one', async () => {
    const before = await Promise.all(
      [edgeA, edgeB].map((e) => metric(e, 'crowncast_edge_invalid_envelopes_total')),
    );
    const subject = roomSubject('club:c1', iso.prefix);
    nc.publish(subject, JSON.stringify({ type: 'system:notice', id: 'bad-1', ts: 'yesterday', data: {} }));
    nc.publish(subject, 'not json at all');
    nc.publish(subject, notice('ok-1', 'hello members'));
    await nc.flush();
    for (const c of [alice, bobA, bobB, carol]) {
      await c.until(() => c.events('club:c1').find((f) => f.id === 'ok-1'));
      expect(c.events('club:c1').some((f) => f.id === 'bad-1')).toBe(false);
    }
    const after = await Promise.all(
      [edgeA, edgeB].map((e) => metric(e, 'crowncast_edge_invalid_envelopes_total')),
    );
    expect(after).toEqual(before.map((n) => n + 2));
    expect(erin.events('club:c1')).toEqual([]);
    // The dropped envelopes are not a gap: ok-1 links to the last event the member did get, live
    // and in a replay from before them (else every gap-checking client resyncs, and a client that
    // re-joins to close the gap gets the same broken link again).
    const live = alice.events('club:c1');
    const ok = live.findIndex((f) => f.id === 'ok-1');
    const prev = live[ok - 1];
    expect(live[ok]?.prevSeq).toBe(prev?.seq);
    const { c: late } = await join(edgeA, 'carol', 'c1');
    const r = await late.request('club:leave', { clubId: 'c1' });
    expect(r.type).toBe('ack');
    await late.request('club:join', { clubId: 'c1', lastSeq: prev?.seq });
    await late.until(() => late.events('club:c1').find((f) => f.id === 'ok-1'));
    const replayed = late.events('club:c1').filter((f) => (f.seq ?? 0) > (prev?.seq ?? 0));
    assertChain(replayed, prev?.seq);
    await late.close();
  });

  it('coalesces a burst into batch frames in seq order on an edge with a window, and speaks MessagePack', async () => {
    const { c: carolMsgpack, r } = await join(edgeB, 'carol', 'c1', { protocol: 'crowncast.msgpack' });
    expect(r).toMatchObject({ type: 'ack', data: { room: 'club:c1' } });
    const subject = roomSubject('club:c1', iso.prefix);
    for (let i = 0; i < 40; i++) nc.publish(subject, notice(`burst-${i}`, `n${i}`));
    await nc.flush();
    const burst = (c: Client) => c.events('club:c1').filter((f) => String(f.id).startsWith('burst-'));
    for (const c of [alice, carol, carolMsgpack]) await c.until(() => burst(c).length === 40 && true);
    expect(burst(carol).map((f) => f.id)).toEqual(Array.from({ length: 40 }, (_, i) => `burst-${i}`));
    assertChain(burst(carol).slice(1), burst(carol)[0]?.seq);
    expect(carol.frames.some((f) => f.type === 'batch')).toBe(true);
    expect(alice.frames.some((f) => f.type === 'batch')).toBe(false);
    expect(burst(carolMsgpack)).toEqual(burst(carol));
    expect(carolMsgpack.raw.length).toBeGreaterThan(0);
    expect(await metric(edgeB, 'crowncast_edge_frames_built_total', 'encoding="msgpack"')).toBeGreaterThan(0);
    await carolMsgpack.close();
  });

  it('stops delivery at once on leave, and when the ledger removes a member', async () => {
    expect(await carol.request('club:leave', { clubId: 'c1' })).toMatchObject({
      type: 'ack',
      data: { wasMember: true },
    });
    await admin(ledger).member('c1', 'bob', false);
    await bobA.frame('room:left');
    await bobB.frame('room:left');
    nc.publish(roomSubject('club:c1', iso.prefix), notice('after-leave', 'x'));
    await nc.flush();
    await alice.until(() => alice.events('club:c1').find((f) => f.id === 'after-leave'));
    await new Promise((r) => setTimeout(r, 300));
    for (const c of [carol, bobA, bobB]) expect(c.events().some((f) => f.id === 'after-leave')).toBe(false);
    const rooms = await bobA.request('rooms');
    expect(rooms.data?.rooms).toEqual(['user:bob', 'global']);
    // A removed member asking again is refused (the cache entry was dropped by the notice).
    expect(await bobA.request('club:join', { clubId: 'c1' })).toMatchObject({ code: 'NOT_A_MEMBER' });
  });

  it('publishes presence notices, heartbeats and delivery analytics, and forwards animation reports', async () => {
    expect(
      await alice.request('gift:animation:played', { giftTransactionId: 'gt_1', completed: true }),
    ).toMatchObject({
      type: 'ack',
    });
    alice.send({ type: 'ping', id: 'p1' });
    expect(await alice.until(() => alice.frames.find((f) => f.type === 'pong'))).toMatchObject({ id: 'p1' });
    const deadline = Date.now() + 5000;
    const has = (pred: (s: { subject: string; body: unknown }) => boolean) => seen.some(pred);
    while (Date.now() < deadline) {
      if (
        has(
          (s) => s.subject === animationPlayedSubject(iso.prefix) && JSON.stringify(s.body).includes('gt_1'),
        ) &&
        has((s) => s.subject === presenceSubject('heartbeat', 'edge-a', iso.prefix)) &&
        has((s) => s.subject === deliveryReportSubject(iso.prefix))
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const play = seen.find((s) => s.subject === animationPlayedSubject(iso.prefix));
    expect(play?.body).toMatchObject({
      edgeId: 'edge-a',
      plays: [{ giftTransactionId: 'gt_1', userId: 'alice' }],
    });
    const hb = seen.filter((s) => s.subject === presenceSubject('heartbeat', 'edge-a', iso.prefix)).at(-1);
    const conns =
      (hb?.body as { connections: { userId: string; rooms: string[] }[] } | undefined)?.connections ?? [];
    expect(conns.find((c) => c.userId === 'alice')?.rooms).toEqual(['club:c1']);
    expect(seen.some((s) => s.subject === presenceSubject('connect', 'edge-b', iso.prefix))).toBe(true);
    expect(seen.some((s) => s.subject === presenceSubject('rooms', 'edge-b', iso.prefix))).toBe(true);
    const reports = seen
      .filter((s) => s.subject === deliveryReportSubject(iso.prefix))
      .flatMap((s) =>
        (s.body as { edgeId: string; reports: { eventId: string; sockets: number }[] }).reports.map((r) => ({
          ...r,
          edge: (s.body as { edgeId: string }).edgeId,
        })),
      );
    const first = alice.events('club:c1')[0];
    const forFirst = reports.filter((r) => r.eventId === first?.id);
    // The first gift went to alice and bob on edge A, and to bob and carol on edge B.
    expect(forFirst.map((r) => [r.edge, r.sockets]).sort()).toEqual([
      ['edge-a', 2],
      ['edge-b', 2],
    ]);
  });
});
