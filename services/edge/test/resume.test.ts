import { roomSubject } from '@crowncast/protocol';
import { cleanup, isolation, type RunningService, tokenFor } from '@crowncast/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  assertChain,
  Client,
  type Frame,
  metric,
  sendClubGift,
  startEdge,
  startLedger,
} from './helpers.js';

const iso = isolation();
let ledger: RunningService;
let edgeA: RunningService;
let edgeB: RunningService;
let nc: NatsConnection;
const clients: Client[] = [];

const notice = (id: string) =>
  JSON.stringify({ type: 'system:notice', id, ts: new Date().toISOString(), data: { message: id } });

async function open(edge: RunningService, user: string, query = '') {
  const c = Client.connect(edge.url, { token: await tokenFor(user), header: true, query });
  clients.push(c);
  await c.frame('connected');
  return c;
}

const lastSeqOf = (events: Frame[]) => events.at(-1)?.seq as number;

beforeAll(async () => {
  ledger = await startLedger(iso, { ROOMS_MAX_MSGS_PER_SUBJECT: '500' });
  [edgeA, edgeB] = await Promise.all([
    startEdge(iso, { EDGE_ID: 'edge-a' }),
    startEdge(iso, { EDGE_ID: 'edge-b', BATCH_WINDOW_MS: '0' }),
  ]);
  const a = admin(ledger);
  await a.gift('g1');
  for (const u of ['alice', 'bob', 'dave']) await a.user(u);
  await a.grant('alice', 100_000);
  await a.club('c1');
  for (const u of ['alice', 'bob']) await a.member('c1', u);
  nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
}, 40_000);

afterAll(async () => {
  for (const c of clients) await c.close();
  await nc?.close();
  await Promise.all([edgeA?.stop('SIGKILL'), edgeB?.stop(), ledger?.stop()]);
  await cleanup(iso);
});

describe('resume with lastSeq', () => {
  it("gives a join without lastSeq the room's stream position, from which a rejoin misses nothing", async () => {
    const token = await tokenFor('alice');
    const bob = await open(edgeA, 'bob');
    await sendClubGift(ledger, token, 'c1', 'g1');
    await new Promise((r) => setTimeout(r, 300));
    const ack = await bob.request('club:join', { clubId: 'c1' });
    const head = (ack.data as { seq?: number }).seq;
    expect(typeof head).toBe('number');
    expect(head).toBeGreaterThan(0);
    await bob.close();
    // Published after bob's join and before his rejoin: a rejoin from `head` must replay it.
    const missed = (await sendClubGift(ledger, token, 'c1', 'g1')).giftTransactionId;
    await new Promise((r) => setTimeout(r, 300));
    const again = await open(edgeB, 'bob');
    await again.request('club:join', { clubId: 'c1', lastSeq: head });
    const gifts = again.events('club:c1').filter((f) => f.type === 'gift:received');
    expect(gifts.map((f) => (f.data as { giftTransactionId: string }).giftTransactionId)).toEqual([missed]);
  });

  it('a client that disconnects, misses gifts and rejoins with lastSeq gets exactly the missed ones, then live', async () => {
    const token = await tokenFor('alice');
    const bob = await open(edgeA, 'bob');
    await bob.request('club:join', { clubId: 'c1' });
    await sendClubGift(ledger, token, 'c1', 'g1');
    const firstGift = await bob.until(() => bob.events('club:c1').find((f) => f.type === 'gift:received'));
    await new Promise((r) => setTimeout(r, 200));
    const before = bob.events('club:c1');
    expect(before).toContainEqual(firstGift);
    const lastSeq = lastSeqOf(before);
    await bob.close();

    const missed: string[] = [];
    for (let i = 0; i < 4; i++)
      missed.push((await sendClubGift(ledger, token, 'c1', 'g1')).giftTransactionId);
    await new Promise((r) => setTimeout(r, 300));

    const again = await open(edgeA, 'bob');
    const ack = await again.request('club:join', { clubId: 'c1', lastSeq });
    expect(ack).toMatchObject({ type: 'ack', data: { room: 'club:c1', resync: false } });
    const replayed = again.events('club:c1');
    expect(replayed.length).toBe((ack.data as { replayed: number }).replayed);
    expect(
      replayed
        .filter((f) => f.type === 'gift:received')
        .map((f) => (f.data as { giftTransactionId: string }).giftTransactionId),
    ).toEqual(missed);
    assertChain(replayed, lastSeq);

    const live = (await sendClubGift(ledger, token, 'c1', 'g1')).giftTransactionId;
    await again.until(() =>
      again
        .events('club:c1')
        .find((f) => (f.data as { giftTransactionId?: string }).giftTransactionId === live),
    );
    await new Promise((r) => setTimeout(r, 200));
    assertChain(again.events('club:c1'), lastSeq);
    expect(await metric(edgeA, 'crowncast_edge_replays_total', 'result="replayed"')).toBe(1);
  });

  it('splices the replay with events that arrive during it: no gap, no duplicate', async () => {
    const bob = await open(edgeA, 'bob');
    await bob.request('club:join', { clubId: 'c1' });
    const subject = roomSubject('club:c1', iso.prefix);
    nc.publish(subject, notice('mark'));
    await bob.until(() => bob.events('club:c1').find((f) => f.id === 'mark'));
    const lastSeq = lastSeqOf(bob.events('club:c1'));
    await bob.close();
    for (let i = 0; i < 200; i++) nc.publish(subject, notice(`gap-${i}`));
    await nc.flush();

    const again = await open(edgeA, 'bob');
    // Keep publishing while the join's stream read runs.
    const during = (async () => {
      for (let i = 0; i < 100; i++) {
        nc.publish(subject, notice(`during-${i}`));
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
      }
      await nc.flush();
    })();
    const ack = await again.request('club:join', { clubId: 'c1', lastSeq });
    await during;
    expect(ack).toMatchObject({ type: 'ack', data: { resync: false } });
    const want = [
      ...Array.from({ length: 200 }, (_, i) => `gap-${i}`),
      ...Array.from({ length: 100 }, (_, i) => `during-${i}`),
    ];
    await again.until(() => again.events('club:c1').length >= 300 && true);
    await new Promise((r) => setTimeout(r, 200));
    const got = again.events('club:c1');
    expect(got.map((f) => f.id)).toEqual(want);
    assertChain(got, lastSeq);
  });

  it('loses nothing when an edge is killed mid-stream and the client reconnects to the other edge', async () => {
    const alice = await open(edgeA, 'alice');
    await alice.request('club:join', { clubId: 'c1' });
    const subject = roomSubject('club:c1', iso.prefix);
    const ids = Array.from({ length: 300 }, (_, i) => `k-${i}`);
    const stream = (async () => {
      for (const id of ids) {
        nc.publish(subject, notice(id));
        await new Promise((r) => setTimeout(r, 3));
      }
      await nc.flush();
    })();
    await alice.until(
      () => alice.events('club:c1').filter((f) => String(f.id).startsWith('k-')).length >= 50 && true,
    );
    await edgeA.stop('SIGKILL');
    await alice.closed;
    const before = alice.events('club:c1');
    const lastSeq = lastSeqOf(before);

    const back = await open(edgeB, 'alice');
    const ack = await back.request('club:join', { clubId: 'c1', lastSeq });
    expect(ack).toMatchObject({ type: 'ack', data: { resync: false } });
    await stream;
    await back.until(() => back.events('club:c1').some((f) => f.id === 'k-299') && true);
    const all = [...before, ...back.events('club:c1')].filter((f) => String(f.id).startsWith('k-'));
    expect(all.map((f) => f.id)).toEqual(ids);
    assertChain(back.events('club:c1'), lastSeq);
  });

  it('gives the automatic rooms their resume points in connected, from which a reconnect misses nothing', async () => {
    const subject = roomSubject('user:erin', iso.prefix);
    nc.publish(subject, notice('e-0'));
    await nc.flush();
    await new Promise((r) => setTimeout(r, 200));
    const erin = Client.connect(edgeB.url, { token: await tokenFor('erin'), header: true });
    clients.push(erin);
    const connected = (await erin.frame('connected')) as { data: { seqs?: Record<string, number> } };
    const seqs = connected.data.seqs ?? {};
    expect(seqs['user:erin']).toBeGreaterThan(0);
    expect(seqs.global).toBeGreaterThanOrEqual(0);
    // Erin sees no private event, loses the link, and two arrive while she is away.
    await erin.close();
    nc.publish(subject, notice('e-1'));
    nc.publish(subject, notice('e-2'));
    await nc.flush();
    const back = await open(edgeB, 'erin', `userLastSeq=${seqs['user:erin']}`);
    await back.until(() => back.events('user:erin').length === 2 && true);
    expect(back.events('user:erin').map((f) => f.id)).toEqual(['e-1', 'e-2']);
    assertChain(back.events('user:erin'), seqs['user:erin'] as number);
  });

  it('says resync:required when the stream no longer holds lastSeq, and resumes the private room at connect', async () => {
    const subject = roomSubject('user:dave', iso.prefix);
    nc.publish(subject, notice('d-0'));
    const dave = await open(edgeB, 'dave');
    for (let i = 1; i < 5; i++) nc.publish(subject, notice(`d-${i}`));
    // d-0 went out before dave was there: it is in the stream, not on his socket.
    await dave.until(() => dave.events('user:dave').length === 4 && true);
    const held = dave.events('user:dave')[1]?.seq as number;
    await dave.close();

    // Resume the private room at connect: d-3 and d-4 come back, nothing else.
    const resumed = await open(edgeB, 'dave', `userLastSeq=${held}`);
    await resumed.until(() => resumed.events('user:dave').length === 2 && true);
    expect(resumed.events('user:dave').map((f) => f.id)).toEqual(['d-3', 'd-4']);
    await resumed.close();

    // 500 kept per room: after 600 more, `held` is gone.
    for (let i = 5; i < 605; i++) nc.publish(subject, notice(`d-${i}`));
    await nc.flush();
    await new Promise((r) => setTimeout(r, 300));
    const late = await open(edgeB, 'dave', `userLastSeq=${held}`);
    const resync = await late.frame('resync:required');
    expect(resync).toMatchObject({ room: 'user:dave', data: { lastSeq: held, reason: 'not_held' } });
    nc.publish(subject, notice('d-live'));
    await late.until(() => late.events('user:dave').find((f) => f.id === 'd-live'));
    expect(late.events('user:dave').map((f) => f.id)).toEqual(['d-live']);
  });
});
