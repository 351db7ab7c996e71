import { cleanup, isolation } from '@crowncast/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startLedger } from './harness.js';

const iso = isolation();
let a: Awaited<ReturnType<typeof startLedger>>;
let b: Awaited<ReturnType<typeof startLedger>>;
let api: ReturnType<typeof client>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  // Two replicas sharing PostgreSQL and Redis, as in production.
  a = await startLedger(iso);
  b = await startLedger(iso, { RELAY_ENABLED: 'false' });
  api = client(a.url);
  await api.gift('g_rose', 20);
  await api.gift('g_star', 50);
  for (const u of ['alice', 'bob', 'carol', 'dave']) tokens[u] = await api.user(u, 10_000);
}, 60_000);

afterAll(async () => {
  await a?.app.close();
  await b?.app.close();
  await cleanup(iso);
});

const gift = (to: string, giftId = 'g_rose', quantity = 1) => ({
  giftId,
  recipientType: 'user',
  recipientId: to,
  quantity,
});

describe('Idempotency-Key', () => {
  it('answers a retry with the first answer and moves crowns once, on any replica', async () => {
    const first = await client(a.url).call('POST', '/gifts/send', {
      token: tokens.alice,
      key: 'same-1',
      body: gift('bob'),
    });
    const retry = await client(b.url).call('POST', '/gifts/send', {
      token: tokens.alice,
      key: 'same-1',
      body: gift('bob'),
    });
    expect(first.status).toBe(200);
    expect(retry).toEqual(first);
    const wallet = await api.call<{ balance: number }>('GET', '/wallet', { token: tokens.alice });
    expect(wallet.body.success && wallet.body.data.balance).toBe(9_980);
  });

  it('commits once when the same key arrives at both replicas at the same moment', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        client(i % 2 ? b.url : a.url).call('POST', '/gifts/send', {
          token: tokens.carol,
          key: 'race',
          body: gift('dave'),
        }),
      ),
    );
    const ok = answers.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThan(0);
    for (const r of answers) {
      if (r.status !== 200)
        expect(!r.body.success && r.body.error.code).toBe('LEDGER_IDEMPOTENCY_IN_PROGRESS');
    }
    expect(new Set(ok.map((r) => JSON.stringify(r.body))).size).toBe(1);
    const [row] = await a.app.sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM gift_transactions WHERE sender_user_id = 'carol'`;
    expect(row?.n).toBe(1);
  });

  it('refuses the same key with another body with 409 and moves nothing', async () => {
    const before = await api.audit();
    const r = await api.call('POST', '/gifts/send', {
      token: tokens.alice,
      key: 'same-1',
      body: gift('bob', 'g_rose', 2),
    });
    expect(r.status).toBe(409);
    expect(!r.body.success && r.body.error.code).toBe('LEDGER_IDEMPOTENCY_KEY_REUSED');
    expect(await api.audit()).toEqual(before);
  });

  it('scopes keys per user: another user may use the same key', async () => {
    const r = await api.call('POST', '/gifts/send', {
      token: tokens.bob,
      key: 'same-1',
      body: gift('alice'),
    });
    expect(r.status).toBe(200);
  });

  it('runs a refused request again on retry (only answers that moved crowns are kept)', async () => {
    for (const key of ['big-1', 'big-2']) {
      const r = await api.call('POST', '/gifts/send', {
        token: tokens.dave,
        key,
        body: gift('bob', 'g_star', 99),
      });
      expect(r.status).toBe(200);
    }
    const poor = await api.call('POST', '/gifts/send', {
      token: tokens.dave,
      key: 'too-big',
      body: gift('bob', 'g_star', 99),
    });
    expect(!poor.body.success && poor.body.error.code).toBe('LEDGER_INSUFFICIENT_CROWNS');
    await api.admin('POST', '/admin/users/dave/grants', { amount: 10_000 });
    const again = await api.call('POST', '/gifts/send', {
      token: tokens.dave,
      key: 'too-big',
      body: gift('bob', 'g_star', 99),
    });
    expect(again.status).toBe(200);
  });

  it('makes an admin grant with a key happen once', async () => {
    const before = await api.audit();
    const grant = () =>
      client(b.url).call('POST', '/admin/users/carol/grants', {
        admin: true,
        key: 'purchase-77',
        body: { amount: 500, reason: 'iap' },
      });
    const [g1, g2] = await Promise.all([grant(), grant()]);
    const g3 = await grant();
    expect([g1.status, g2.status].filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(g3.status).toBe(200);
    expect((await api.audit()).issued).toBe(before.issued + 500);
  });

  it('refuses a malformed key with 400', async () => {
    const r = await api.call('POST', '/gifts/send', {
      token: tokens.alice,
      key: 'bad key with spaces',
      body: gift('bob'),
    });
    expect(r.status).toBe(400);
    expect(!r.body.success && r.body.error.code).toBe('LEDGER_INVALID_IDEMPOTENCY_KEY');
  });
});

describe('rate limits shared by every replica (Redis)', () => {
  it('allows 10 gifts a minute per user, the 11th is 429 with Retry-After, across both replicas', async () => {
    const gifts = ['g_rose', 'g_star'];
    const results = [];
    for (let i = 0; i < 11; i++) {
      results.push(
        await client(i % 2 ? b.url : a.url).call('POST', '/gifts/send', {
          token: tokens.bob,
          body: gift('carol', gifts[i % 2]),
        }),
      );
    }
    // bob sent one gift in the scoping test above.
    const ok = results.filter((r) => r.status === 200).length;
    expect(ok).toBe(9);
    const last = results[10]!;
    expect(last.status).toBe(429);
    expect(!last.body.success && last.body.error.code).toBe('LEDGER_RATE_LIMITED');
    const res = await fetch(`${a.url}/gifts/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.bob}`, 'content-type': 'application/json' },
      body: JSON.stringify(gift('carol')),
    });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('does not count a retried key against the limit (it answers from the stored result)', async () => {
    const r = await api.call('POST', '/gifts/send', {
      token: tokens.bob,
      key: 'same-1',
      body: gift('alice'),
    });
    expect(r.status).toBe(200);
  });
});

describe('anti-spam', () => {
  const spamIso = isolation();
  let s: Awaited<ReturnType<typeof startLedger>>;
  beforeAll(async () => {
    s = await startLedger(spamIso, { GIFT_RATE_LIMIT_PER_MIN: '100' });
  });
  afterAll(async () => {
    await s.app.close();
    await cleanup(spamIso);
  });

  it('refuses the same gift an 11th time in a minute with LEDGER_SPAM_DETECTED, other gifts still pass', async () => {
    const sapi = client(s.url);
    await sapi.gift('g_rose', 20);
    await sapi.gift('g_star', 50);
    const t = await sapi.user('eve', 10_000);
    await sapi.user('frank');
    for (let i = 0; i < 10; i++)
      expect((await sapi.call('POST', '/gifts/send', { token: t, body: gift('frank') })).status).toBe(200);
    const spam = await sapi.call('POST', '/gifts/send', { token: t, body: gift('frank') });
    expect(spam.status).toBe(429);
    expect(!spam.body.success && spam.body.error.code).toBe('LEDGER_SPAM_DETECTED');
    expect((await sapi.call('POST', '/gifts/send', { token: t, body: gift('frank', 'g_star') })).status).toBe(
      200,
    );
  });
});
