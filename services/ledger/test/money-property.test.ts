import { cleanup, isolation, tokenFor } from '@crowncast/testkit';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, natsConnect, readStream, type StreamedEvent, startLedger } from './harness.js';

/**
 * Random gift sequences against two ledger replicas at once: whatever the mix of successes,
 * refusals and retries, crowns are conserved, every success is one transaction with one set of
 * events, every refusal moved nothing, and each room's events arrive in commit order.
 */
const iso = isolation();
const USERS = Array.from({ length: 12 }, (_, i) => `u${i}`);
const CLUBS: Record<string, string[]> = { c0: USERS.slice(0, 6), c1: USERS.slice(4, 10), c2: USERS.slice(8) };
const GAMES: Record<string, string[]> = { g0: USERS.slice(0, 4), g1: USERS.slice(6, 12) };
const GIFTS: [string, number][] = [
  ['g_coffee', 10],
  ['g_rose', 20],
  ['g_cake', 80],
  ['g_crown', 150],
  ['g_castle', 3500],
  ['g_dragon', 10_000],
];
const REWARD = 25;

let a: Awaited<ReturnType<typeof startLedger>>;
let b: Awaited<ReturnType<typeof startLedger>>;
let nc: NatsConnection;
let seed = 42;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

interface Sent {
  sender: string;
  creditAccount: string;
  rooms: string[];
  response: { giftTransactionId: string; totalCost: number };
}

beforeAll(async () => {
  const env = { GIFT_RATE_LIMIT_PER_MIN: '100000', GIFT_SPAM_SAME_PER_MIN: '100000', RELAY_POLL_MS: '50' };
  a = await startLedger(iso, env);
  b = await startLedger(iso, env);
  nc = await natsConnect();
  const api = client(a.url);
  for (const [id, price] of GIFTS) await api.gift(id, price, price >= 10_000 ? 'legendary' : 'common');
  for (const [i, u] of USERS.entries()) await api.user(u, i === 0 ? 40_000 : 1_000 + i * 300);
  for (const [c, members] of Object.entries(CLUBS)) {
    await api.club(c, members, [
      { name: 'Bronze', target: 500 },
      { name: 'Silver', target: 3_000 },
      { name: 'Gold', target: 50_000 },
    ]);
  }
  for (const [g, players] of Object.entries(GAMES)) await api.game(g, players);
  await api.admin('POST', '/admin/clubs/c1/events', {
    name: 'Rally',
    goal: 2_000,
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    rewardClubExperience: 10,
    rewardMemberCrowns: REWARD,
  });
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await a?.app.close();
  await b?.app.close();
  await cleanup(iso);
});

describe('money under random concurrent gifts', () => {
  const sent: Sent[] = [];
  const refused: string[] = [];
  let stream: StreamedEvent[] = [];

  it('runs 400 random gift requests from 20 concurrent senders across two replicas', async () => {
    const tokens = Object.fromEntries(
      await Promise.all(USERS.map(async (u) => [u, await tokenFor(u)] as const)),
    );
    const plans = Array.from({ length: 400 }, (_, n) => {
      const sender = pick(USERS);
      const [giftId] = pick(GIFTS);
      const quantity = 1 + Math.floor(rnd() * 3);
      const kind = rnd();
      let path: string;
      let body: Record<string, unknown>;
      let creditAccount: string;
      let rooms: string[];
      if (kind < 0.35) {
        const club = pick(Object.keys(CLUBS)); // sometimes not a member: refused
        path = `/clubs/${club}/gifts/send`;
        body = { giftId, quantity };
        creditAccount = `club:${club}`;
        rooms = [`club:${club}`];
      } else if (kind < 0.7) {
        const to = pick(USERS.filter((u) => u !== sender));
        path = '/gifts/send';
        body = { giftId, quantity, recipientType: 'user', recipientId: to };
        creditAccount = `user:${to}`;
        rooms = [`user:${sender}`, `user:${to}`];
      } else {
        const game = pick(Object.keys(GAMES));
        const to = rnd() < 0.5 ? pick(GAMES[game]!.filter((u) => u !== sender)) : undefined;
        path = `/games/${game}/gifts/send`;
        body = { giftId, quantity, ...(to ? { recipientUserId: to } : {}) };
        creditAccount = to ? `user:${to}` : `game:${game}`;
        rooms = [`game:${game}`];
      }
      // A quarter carry a key, and some of those are sent twice (a client retry) to the other replica.
      const key = rnd() < 0.25 ? `k${n}` : undefined;
      const retries = key && rnd() < 0.5 ? 2 : 1;
      return { sender, path, body, creditAccount, rooms, key, retries };
    });

    let next = 0;
    const worker = async () => {
      while (next < plans.length) {
        const p = plans[next++]!;
        const answers = await Promise.all(
          Array.from({ length: p.retries }, (_, i) =>
            client(i % 2 ? b.url : a.url).call<Sent['response']>('POST', p.path, {
              token: tokens[p.sender],
              body: p.body,
              ...(p.key ? { key: p.key } : {}),
            }),
          ),
        );
        const ok = answers.filter((r) => r.status === 200);
        for (const r of answers) expect([200, 403, 409, 422]).toContain(r.status);
        if (ok.length) {
          const ids = new Set(ok.map((r) => r.body.success && r.body.data.giftTransactionId));
          expect(ids.size, 'a retried key answers with the first transaction').toBe(1);
          const first = ok[0]!.body;
          if (first.success)
            sent.push({
              sender: p.sender,
              creditAccount: p.creditAccount,
              rooms: p.rooms,
              response: first.data,
            });
        } else {
          refused.push(p.path);
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    expect(sent.length).toBeGreaterThan(100);
    expect(refused.length).toBeGreaterThan(10);
  });

  it('conserves crowns: total 0, circulating = issued, nothing negative', async () => {
    const audit = await client(a.url).audit();
    expect(audit.totalSum).toBe(0);
    expect(audit.circulating).toBe(audit.issued);
    expect(audit.negativeBalances).toBe(0);
  });

  it('has exactly one transaction per success and balances that match the answers', async () => {
    const rows = await a.app.sql<{ id: string }[]>`SELECT id FROM gift_transactions`;
    expect(rows.length).toBe(sent.length);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(sent.map((s) => s.response.giftTransactionId)));

    const expected = new Map<string, number>();
    const add = (acct: string, v: number) => expected.set(acct, (expected.get(acct) ?? 0) + v);
    for (const r of await a.app.sql<{ credit_account: string; amount: number }[]>`
      SELECT credit_account, amount FROM entries WHERE kind IN ('grant', 'event_reward')`)
      add(r.credit_account, r.amount);
    for (const s of sent) {
      add(`user:${s.sender}`, -s.response.totalCost);
      add(s.creditAccount, s.response.totalCost);
    }
    const balances = await a.app.sql<
      { id: string; balance: number }[]
    >`SELECT id, balance FROM accounts WHERE kind <> 'system'`;
    for (const acct of balances) expect(acct.balance, acct.id).toBe(expected.get(acct.id) ?? 0);
  });

  it('publishes every outbox event exactly once, and every gift its events in its rooms', async () => {
    await eventually(async () => {
      const [r] = await a.app.sql<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`;
      return r?.n === 0;
    }, 20_000);
    const outbox = await a.app.sql<{ event_id: string }[]>`SELECT event_id FROM outbox`;
    stream = await readStream(nc, iso.stream);
    expect(stream.length).toBe(outbox.length);
    expect(new Set(stream.map((m) => m.msgId)).size).toBe(stream.length);
    expect(new Set(stream.map((m) => m.event.id))).toEqual(new Set(outbox.map((o) => o.event_id)));
    for (const m of stream) expect(m.msgId).toBe(m.event.id);

    const received = new Map<string, string[]>();
    for (const m of stream) {
      if (m.event.type !== 'gift:received') continue;
      const list = received.get(m.event.data.giftTransactionId) ?? [];
      list.push(m.subject.slice(iso.prefix.length));
      received.set(m.event.data.giftTransactionId, list);
    }
    for (const s of sent) {
      const subjects = (received.get(s.response.giftTransactionId) ?? []).sort();
      expect(subjects).toEqual(s.rooms.map((r) => `room.${r.replace(':', '.')}`).sort());
      const legendary = stream.filter(
        (m) =>
          m.event.type === 'gift:global:announcement' &&
          m.event.data.giftTransactionId === s.response.giftTransactionId,
      );
      expect(legendary.length).toBe(s.response.totalCost >= 10_000 ? 1 : 0);
    }
    expect(received.size).toBe(sent.length);
  });

  it("keeps each room's events in commit order: wallet and threshold chains have no gap or swap", async () => {
    const balances = new Map(
      (await a.app.sql<{ id: string; balance: number }[]>`SELECT id, balance FROM accounts`).map((r) => [
        r.id,
        r.balance,
      ]),
    );
    for (const u of USERS) {
      const wallet = stream.flatMap((m) =>
        m.event.type === 'wallet:balance_updated' && m.subject === `${iso.prefix}room.user.${u}`
          ? [m.event.data]
          : [],
      );
      let last = 0;
      for (const w of wallet) {
        expect(w.previousBalance, `${u} chain`).toBe(last);
        expect(w.balance - w.previousBalance).toBe(w.delta);
        last = w.balance;
      }
      expect(last, `${u} last event shows the final balance`).toBe(balances.get(`user:${u}`));
    }
    for (const c of Object.keys(CLUBS)) {
      const bars = stream.flatMap((m) =>
        m.event.type === 'club:threshold:updated' && m.event.data.clubId === c ? [m.event.data] : [],
      );
      let last = 0;
      for (const t of bars) {
        expect(t.previousValue).toBe(last);
        expect(t.currentValue).toBeGreaterThan(t.previousValue);
        last = t.currentValue;
      }
    }
  });

  it('crosses the event goal once and credits every member the reward through the ledger', async () => {
    const reached = stream.filter((m) => m.event.type === 'club:event:goal:reached');
    expect(reached.length).toBe(1);
    const data = reached[0]!.event.data as {
      topContributors: { contribution: number }[];
      totalContributed: number;
    };
    expect(data.totalContributed).toBeGreaterThanOrEqual(2_000);
    expect(data.topContributors.length).toBeGreaterThan(0);
    const contributions = data.topContributors.map((t) => t.contribution);
    expect(contributions).toEqual([...contributions].sort((x, y) => y - x));
    const rewards = await a.app.sql<
      { credit_account: string; amount: number }[]
    >`SELECT credit_account, amount FROM entries WHERE kind = 'event_reward'`;
    expect(rewards.map((r) => r.credit_account).sort()).toEqual(CLUBS.c1!.map((u) => `user:${u}`).sort());
    expect(rewards.every((r) => r.amount === REWARD)).toBe(true);
  });

  it('never runs two outbox relays at once across the two replicas', async () => {
    // Each relay round holds a transaction-scoped lock; sample it while events are being published.
    const alice = await tokenFor(USERS[0]!);
    const load = Promise.all(
      Array.from({ length: 40 }, () =>
        client(a.url).call('POST', '/gifts/send', {
          token: alice,
          body: { giftId: 'g_coffee', recipientType: 'user', recipientId: USERS[1] },
        }),
      ),
    );
    let most = 0;
    for (let i = 0; i < 60; i++) {
      const [row] = await a.app.sql<{ holders: number }[]>`
        SELECT count(*)::int AS holders FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND classid = 7340002 AND objsubid = 2
          AND objid::bigint = (hashtext(${iso.schema})::bigint + 4294967296) % 4294967296`;
      most = Math.max(most, row?.holders ?? 0);
      await new Promise((r) => setTimeout(r, 5));
    }
    await load;
    expect(most).toBeLessThanOrEqual(1);
  });
});
