import { cleanup, isolation } from '@crowncast/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startLedger } from './harness.js';

const iso = isolation();
let ledger: Awaited<ReturnType<typeof startLedger>>;
let api: ReturnType<typeof client>;
const t: Record<string, string> = {};

beforeAll(async () => {
  ledger = await startLedger(iso, { GIFT_RATE_LIMIT_PER_MIN: '1000', GIFT_SPAM_SAME_PER_MIN: '1000' });
  api = client(ledger.url);
  await api.gift('g_rose', 20);
  await api.gift('g_cake', 80);
  for (const u of ['alice', 'bob', 'carol']) t[u] = await api.user(u, 5_000);
  await api.club(
    'club1',
    ['alice', 'bob'],
    [
      { name: 'Bronze', target: 100 },
      { name: 'Silver', target: 1_000 },
    ],
  );
  await api.admin('POST', '/admin/clubs/club1/events', {
    name: 'Sprint',
    goal: 150,
    startsAt: new Date(Date.now() - 1000).toISOString(),
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    rewardClubExperience: 5,
    rewardMemberCrowns: 7,
  });
  for (let i = 0; i < 5; i++) {
    expect(
      (
        await api.call('POST', '/gifts/send', {
          token: t.alice,
          body: { giftId: 'g_rose', recipientType: 'user', recipientId: 'bob' },
        })
      ).status,
    ).toBe(200);
  }
  expect(
    (
      await api.call('POST', '/clubs/club1/gifts/send', {
        token: t.bob,
        body: { giftId: 'g_cake', quantity: 2, message: 'go team' },
      })
    ).status,
  ).toBe(200);
});

afterAll(async () => {
  await ledger.app.close();
  await cleanup(iso);
});

type Page<T> = { items: T[]; nextCursor: string | null };

describe('read API', () => {
  it('serves the catalog sorted by price', async () => {
    const r = await api.call<{ id: string; price: number }[]>('GET', '/gifts', { token: t.carol });
    expect(r.body.success && r.body.data.map((g) => g.id)).toEqual(['g_rose', 'g_cake']);
  });

  it('pages gift history with an opaque cursor, newest first, no duplicates', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/gifts/history?direction=received&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await api.call<Page<{ id: string; senderUserId: string; sentAt: string }>>('GET', q, {
        token: t.bob,
      });
      expect(r.status).toBe(200);
      if (!r.body.success) break;
      seen.push(...r.body.data.items.map((i) => i.id));
      cursor = r.body.data.nextCursor;
    } while (cursor);
    expect(seen.length).toBe(5);
    expect(new Set(seen).size).toBe(5);
    const sent = await api.call<Page<unknown>>('GET', '/gifts/history?direction=sent', { token: t.bob });
    expect(sent.body.success && sent.body.data.items.length).toBe(1);
    const bad = await api.call('GET', '/gifts/history?cursor=not-a-cursor', { token: t.bob });
    expect(bad.status).toBe(400);
    expect(!bad.body.success && bad.body.error.code).toBe('LEDGER_INVALID_CURSOR');
  });

  it('serves recent club gifts to members only', async () => {
    const r = await api.call<{ giftId: string; quantity: number; message: string }[]>(
      'GET',
      '/clubs/club1/gifts/recent',
      { token: t.alice },
    );
    expect(r.body.success && r.body.data).toMatchObject([
      { giftId: 'g_cake', quantity: 2, message: 'go team' },
    ]);
    const outsider = await api.call('GET', '/clubs/club1/gifts/recent', { token: t.carol });
    expect(outsider.status).toBe(403);
    expect(!outsider.body.success && outsider.body.error.code).toBe('LEDGER_NOT_A_MEMBER');
    const missing = await api.call('GET', '/clubs/nope/gifts/recent', { token: t.carol });
    expect(missing.status).toBe(404);
  });

  it('shows the threshold bar and the running event with its top contributors', async () => {
    const bar = await api.call<{
      currentValue: number;
      levelName: string;
      targetValue: number;
      progress: number;
    }>('GET', '/clubs/club1/threshold', { token: t.alice });
    expect(bar.body.success && bar.body.data).toMatchObject({
      currentValue: 160,
      levelName: 'Silver',
      targetValue: 1000,
      progress: 16,
    });
    const ev = await api.call<
      {
        name: string;
        totalContributed: number;
        goalReachedAt: string | null;
        topContributors: { userId: string; rank: number }[];
      }[]
    >('GET', '/clubs/club1/events/active', { token: t.bob });
    expect(ev.body.success && ev.body.data).toMatchObject([
      { name: 'Sprint', totalContributed: 160, topContributors: [{ userId: 'bob', rank: 1 }] },
    ]);
    expect(ev.body.success && ev.body.data[0]?.goalReachedAt).not.toBeNull();
    expect((await api.call('GET', '/clubs/club1/threshold', { token: t.carol })).status).toBe(403);
  });

  it('lists notifications unread first and marks them read', async () => {
    const list = await api.call<Page<{ id: string; readAt: string | null; title: string }>>(
      'GET',
      '/notifications?limit=10',
      { token: t.bob },
    );
    const items = list.body.success ? list.body.data.items : [];
    expect(items.length).toBe(5);
    const first = items[0]!.id;
    const mark = await api.call<{ marked: number }>('PUT', '/notifications/read', {
      token: t.bob,
      body: { ids: [first] },
      key: 'read-1',
    });
    expect(mark.body.success && mark.body.data.marked).toBe(1);
    const again = await api.call('PUT', '/notifications/read', {
      token: t.bob,
      body: { ids: [first] },
      key: 'read-1',
    });
    expect(again.body).toEqual(mark.body);
    const after = await api.call<Page<{ id: string; readAt: string | null }>>(
      'GET',
      '/notifications?limit=10',
      { token: t.bob },
    );
    const order = after.body.success ? after.body.data.items : [];
    expect(order[order.length - 1]!.id).toBe(first);
    expect(order.slice(0, 4).every((n) => n.readAt === null)).toBe(true);
    const all = await api.call<{ marked: number }>('PUT', '/notifications/read', {
      token: t.bob,
      body: { all: true },
    });
    expect(all.body.success && all.body.data.marked).toBe(4);
    // Someone else's notification ids are not theirs to mark.
    const other = await api.call<{ marked: number }>('PUT', '/notifications/read', {
      token: t.carol,
      body: { ids: [first] },
    });
    expect(other.body.success && other.body.data.marked).toBe(0);
  });

  it('serves the wallet, OpenAPI at /docs, metrics and health', async () => {
    const w = await api.call<{ balance: number }>('GET', '/wallet', { token: t.alice });
    // 5000 granted, 5 roses sent, 7 crowns of event reward.
    expect(w.body.success && w.body.data.balance).toBe(5_000 - 100 + 7);
    const spec = await fetch(`${ledger.url}/docs/json`).then((r) => r.json());
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/gifts/send',
        '/clubs/{clubId}/gifts/send',
        '/games/{gameId}/gifts/send',
        '/wallet',
        '/notifications/read',
      ]),
    );
    const metrics = await fetch(`${ledger.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/crowncast_ledger_gift_batch_size_count \d+/);
    expect(metrics).toMatch(/crowncast_ledger_outbox_pending \d+/);
    expect((await fetch(`${ledger.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${ledger.url}/health/ready`).then((r) => r.json());
    expect(ready).toEqual({ status: 'ready', checks: { postgres: true, nats: true, redis: true } });
  });
});

describe('CORS', () => {
  it('lets only the configured browser origins call the API', async () => {
    const corsIso = isolation();
    const s = await startLedger(corsIso, { CORS_ORIGINS: 'https://app.example.com' });
    try {
      const preflight = (origin: string) =>
        fetch(`${s.url}/gifts/send`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization,idempotency-key',
          },
        });
      const ok = await preflight('https://app.example.com');
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(ok.headers.get('access-control-allow-headers')).toContain('idempotency-key');
      const other = await preflight('https://evil.example.com');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await s.app.close();
      await cleanup(corsIso);
    }
    // Without CORS_ORIGINS (the default) no origin is allowed.
    const plain = await fetch(`${ledger.url}/gifts`, { headers: { origin: 'https://app.example.com' } });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });
});
