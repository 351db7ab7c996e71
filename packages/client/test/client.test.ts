import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ClientEvents, type CrowncastClient, connect, LedgerApi, State } from '../src/index.js';
import { Cable } from './support/cable.js';
import { CLUB, type Stack, startStack } from './support/stack.js';
import { until } from './support/wait.js';

let stack: Stack;
const clients: CrowncastClient[] = [];
const cables: Cable[] = [];

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(cables.map((c) => c.close()));
  await stack?.stop();
});

const wsUrl = (httpUrl: string) => `${httpUrl.replace(/^http/, 'ws')}/ws`;

/** A client that records everything it emits. */
function open(user: string, opts: { url?: string; expiresInSec?: number; pingIntervalMs?: number } = {}) {
  const seen: { [K in keyof ClientEvents]?: ClientEvents[K][] } = {};
  let tokens = 0;
  const client = connect({
    url: opts.url ?? wsUrl(stack.edge.url),
    getToken: () => {
      tokens++;
      return stack.token(user, opts.expiresInSec);
    },
    WebSocket,
    backoff: { baseMs: 100, maxMs: 400 },
    pingIntervalMs: opts.pingIntervalMs ?? 1000,
    pongTimeoutMs: 1000,
    refreshBeforeMs: 2000,
  });
  clients.push(client);
  const record = <K extends keyof ClientEvents>(k: K) => {
    const list: ClientEvents[K][] = [];
    (seen as Record<string, unknown[]>)[k] = list;
    client.on(k, (p) => list.push(p));
  };
  for (const k of [
    'state',
    'disconnected',
    'event',
    'resync',
    'quality',
    'draining',
    'error',
    'gift:received',
  ] as const)
    record(k);
  const gifts = () => (seen['gift:received'] ?? []).filter((e) => e.room === `club:${CLUB}`);
  return { client, seen, gifts, tokens: () => tokens };
}

const api = (user: string, baseUrl = stack.ledger.url) =>
  new LedgerApi({ baseUrl, getToken: () => stack.token(user) });

describe('client against a real edge and ledger', () => {
  it('connects, joins a club and hands every room event once, typed', async () => {
    const a = open('alice');
    await until(() => a.client.state === State.Connected, 'connected');
    expect(a.seen.state?.map((s) => s.state)).toContain(State.Connected);
    await expect(a.client.joinClub(CLUB)).resolves.toMatchObject({ room: `club:${CLUB}`, resync: false });

    const sent = await api('bob').sendClubGift(CLUB, { giftId: 'gift_rose', message: 'hi' });
    const got = await until(
      () => a.gifts().find((g) => g.data.giftTransactionId === sent.giftTransactionId),
      'the gift on the socket',
    );
    expect(got.data.sender.userId).toBe('bob');
    expect(got.data.message).toBe('hi');
    await until(
      () => a.seen.event?.some((e) => e.type === 'club:threshold:updated' && e.room === `club:${CLUB}`),
      'the threshold update',
    );
    const clubSeqs = (a.seen.event ?? []).filter((e) => e.room === `club:${CLUB}`).map((e) => e.seq);
    expect(a.client.lastSeq(`club:${CLUB}`)).toBe(Math.max(...clubSeqs));

    // Erin is not a member: the join fails with the edge's code and the room is not remembered.
    const e = open('erin');
    await expect(e.client.joinClub(CLUB)).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
    expect(e.client.rooms).toEqual([]);
  });

  it('after a lost link it reconnects, rejoins with lastSeq and hands over exactly the missed gifts, in order', async () => {
    const cable = await Cable.open(stack.edge.port);
    cables.push(cable);
    const c = open('carol', { url: wsUrl(cable.url) });
    await c.client.joinClub(CLUB);
    const bob = api('bob');
    const first = await bob.sendClubGift(CLUB, { giftId: 'gift_rose' });
    await until(
      () => c.gifts().some((g) => g.data.giftTransactionId === first.giftTransactionId),
      'first gift',
    );

    cable.unplug();
    await until(() => c.client.state === State.Disconnected, 'disconnected');
    // Asked while offline: waits in the queue, goes out after the reconnect.
    const activity = c.client.markActive();
    const missed = [
      await bob.sendClubGift(CLUB, { giftId: 'gift_heart' }),
      await bob.sendClubGift(CLUB, { giftId: 'gift_star' }),
    ];
    await new Promise((r) => setTimeout(r, 300));
    expect(c.gifts()).toHaveLength(1);
    cable.plug();

    await until(() => c.gifts().length >= 3, 'the missed gifts', 10_000);
    await activity;
    const ids = c.gifts().map((g) => g.data.giftTransactionId);
    expect(ids).toEqual([first.giftTransactionId, ...missed.map((m) => m.giftTransactionId)]);
    const seqs = c.gifts().map((g) => g.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    // Nothing was lost, so the chain had no gap; and no event id was handed over twice.
    expect(c.seen.resync ?? []).toEqual([]);
    const eventIds = (c.seen.event ?? []).map((e) => e.id);
    expect(new Set(eventIds).size).toBe(eventIds.length);
    expect(c.seen.disconnected?.[0]?.reconnectInMs).toBeLessThanOrEqual(100);
  });

  it('hands over a private event sent while the link was down, though no private event came before', async () => {
    const cable = await Cable.open(stack.edge.port);
    cables.push(cable);
    const e = open('erin', { url: wsUrl(cable.url) });
    await until(() => e.client.state === State.Connected, 'connected');
    cable.unplug();
    await until(() => e.client.state === State.Disconnected, 'disconnected');
    const sent = await api('bob').sendGift('user', 'erin', { giftId: 'gift_rose' });
    cable.plug();
    // Resumed from the point `connected` gave for user:erin: without it the gift would be lost.
    await until(
      () =>
        (e.seen['gift:received'] ?? []).some(
          (g) => g.room === 'user:erin' && g.data.giftTransactionId === sent.giftTransactionId,
        ),
      'the private gift',
      10_000,
    );
    expect(e.seen.resync ?? []).toEqual([]);
  });

  it('tells the app to reload a room by REST when the edge no longer holds its lastSeq', async () => {
    const d = open('dave');
    const joined = await d.client.joinClub(CLUB, { lastSeq: 9_999_999 });
    expect(joined.resync).toBe(true);
    expect(d.seen.resync).toEqual([{ room: `club:${CLUB}`, reason: 'not_held', lastSeq: 9_999_999 }]);
    // It goes on live from now, without a false gap.
    const sent = await api('alice').sendClubGift(CLUB, { giftId: 'gift_rose' });
    await until(
      () => d.gifts().some((g) => g.data.giftTransactionId === sent.giftTransactionId),
      'live gift',
    );
    expect(d.seen.resync).toHaveLength(1);
  });

  it('measures ping round trips (quality) and the server clock offset', async () => {
    const a = open('alice', { pingIntervalMs: 100 });
    await until(() => (a.seen.quality?.length ?? 0) > 0, 'a quality reading');
    await new Promise((r) => setTimeout(r, 500));
    expect(a.client.quality).toBe('excellent');
    expect(a.client.rttMs).toBeLessThan(100);
    // Same machine, same clock: the measured offset is within a few ms of zero.
    expect(Math.abs(a.client.serverOffsetMs)).toBeLessThan(50);
  });

  it('refreshes a short-lived token in-band, so the edge never closes the connection for expiry', async () => {
    const b = open('bob', { expiresInSec: 3 });
    await b.client.joinClub(CLUB);
    await new Promise((r) => setTimeout(r, 4500));
    expect(b.tokens()).toBeGreaterThanOrEqual(3);
    expect(b.seen.disconnected ?? []).toEqual([]);
    expect(b.client.state).toBe(State.Connected);
    const sent = await api('alice').sendClubGift(CLUB, { giftId: 'gift_heart' });
    await until(
      () => b.gifts().some((g) => g.data.giftTransactionId === sent.giftTransactionId),
      'gift after expiry',
    );
  });

  it('retries a gift whose answer was lost with the same Idempotency-Key: crowns move once', async () => {
    const cable = await Cable.open(stack.ledger.port);
    cables.push(cable);
    const dave = api('dave', cable.url);
    const before = (await dave.wallet()).balance;
    cable.dropNextReply();
    const sent = await dave.sendClubGift(CLUB, { giftId: 'gift_crown' });
    expect((await dave.wallet()).balance).toBe(before - 150);
    expect(sent.remainingCrowns).toBe(before - 150);
    const history = await dave.history({ direction: 'sent', limit: 100 });
    expect(history.items.filter((t) => t.id === sent.giftTransactionId)).toHaveLength(1);
    expect(history.items.filter((t) => t.giftId === 'gift_crown')).toHaveLength(1);
    // The key is the caller's to reuse: the same key again is the same gift, not a second one.
    const again = await dave.sendClubGift(CLUB, {
      giftId: 'gift_crown',
      idempotencyKey: sent.idempotencyKey,
    });
    expect(again.giftTransactionId).toBe(sent.giftTransactionId);
    expect((await dave.wallet()).balance).toBe(before - 150);
  });
});

describe('client and a draining edge', () => {
  it('honours server:draining: reconnects after the delay (to another edge) and misses nothing', async () => {
    const [e1, e2] = await Promise.all([stack.startEdge(), stack.startEdge()]);
    const cable = await Cable.open(e1.port);
    cables.push(cable);
    const c = open('carol', { url: wsUrl(cable.url) });
    c.client.on('draining', () => cable.retarget(e2.port));
    await c.client.joinClub(CLUB);
    await until(() => c.client.state === State.Connected, 'connected');

    const stopped = e1.stop('SIGTERM');
    const drain = await until(() => c.seen.draining?.[0], 'server:draining');
    expect(drain.reconnectAfterMs).toBeLessThanOrEqual(300);
    const sent = await api('alice').sendClubGift(CLUB, { giftId: 'gift_star' });
    await stopped;
    await until(
      () => c.gifts().some((g) => g.data.giftTransactionId === sent.giftTransactionId),
      'gift',
      10_000,
    ).catch((e: Error) => {
      throw new Error(
        `${e.message}: ${JSON.stringify({ s: c.seen.state, d: c.seen.disconnected, e: c.seen.error, r: c.seen.resync, n: c.gifts().length, st: c.client.state })}`,
      );
    });
    const closeInfo = c.seen.disconnected?.[0];
    expect(closeInfo?.code).toBe(4012);
    // The edge closes at the announced moment, so the client reconnects at once rather than backing off.
    expect(closeInfo?.reconnectInMs).toBeLessThanOrEqual(50);
    await until(() => c.client.state === State.Connected, 'reconnected to the other edge');
  });
});
