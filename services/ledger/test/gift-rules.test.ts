import { signDevToken } from '@crowncast/auth';
import { cleanup, isolation, TEST_JWT_SECRET, tokenFor } from '@crowncast/testkit';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startLedger } from './harness.js';

const iso = isolation();
let ledger: Awaited<ReturnType<typeof startLedger>>;
let api: ReturnType<typeof client>;
let alice: string;

beforeAll(async () => {
  // A generous rate limit: this file proves the other rules; rate-limit.test.ts proves the limits.
  ledger = await startLedger(iso, { GIFT_RATE_LIMIT_PER_MIN: '1000', GIFT_SPAM_SAME_PER_MIN: '1000' });
  api = client(ledger.url);
  alice = await api.user('alice', 100);
  await api.user('bob');
  await api.user('carol');
  await api.club('club1', ['alice', 'bob']);
  await api.club('club2', ['bob']);
  await api.game('game1', ['alice', 'bob']);
  await api.game('game2', ['bob']);
  await api.gift('gift_rose', 20);
  await api.gift('gift_big', 1000);
});

afterAll(async () => {
  await ledger.app.close();
  await cleanup(iso);
});

async function expectRefused(path: string, body: unknown, status: number, code: string, token = alice) {
  const before = await api.audit();
  const wallet = await api.call<{ balance: number }>('GET', '/wallet', { token: alice });
  const r = await api.call('POST', path, { token, body });
  expect(r.status).toBe(status);
  expect(r.body.success).toBe(false);
  if (!r.body.success) expect(r.body.error.code).toBe(code);
  expect(await api.audit()).toEqual(before);
  expect((await api.call('GET', '/wallet', { token: alice })).body).toEqual(wallet.body);
}

describe('gift rules: each refusal has its own code and moves nothing', () => {
  it('refuses a gift the sender cannot pay for', () =>
    expectRefused('/clubs/club1/gifts/send', { giftId: 'gift_big' }, 422, 'LEDGER_INSUFFICIENT_CROWNS'));
  it('refuses a gift that is not in the catalog', () =>
    expectRefused('/clubs/club1/gifts/send', { giftId: 'gift_nope' }, 404, 'LEDGER_GIFT_NOT_FOUND'));
  it('refuses an unknown recipient user, club or game', async () => {
    await expectRefused(
      '/gifts/send',
      { giftId: 'gift_rose', recipientType: 'user', recipientId: 'nobody' },
      404,
      'LEDGER_RECIPIENT_NOT_FOUND',
    );
    await expectRefused(
      '/gifts/send',
      { giftId: 'gift_rose', recipientType: 'club', recipientId: 'noclub' },
      404,
      'LEDGER_RECIPIENT_NOT_FOUND',
    );
    await expectRefused(
      '/games/nogame/gifts/send',
      { giftId: 'gift_rose' },
      404,
      'LEDGER_RECIPIENT_NOT_FOUND',
    );
  });
  it('refuses a club gift from a non-member and a game gift from a non-player', async () => {
    await expectRefused('/clubs/club2/gifts/send', { giftId: 'gift_rose' }, 403, 'LEDGER_NOT_A_MEMBER');
    await expectRefused('/games/game2/gifts/send', { giftId: 'gift_rose' }, 403, 'LEDGER_NOT_A_PLAYER');
    await expectRefused(
      '/games/game1/gifts/send',
      { giftId: 'gift_rose', recipientUserId: 'carol' },
      403,
      'LEDGER_NOT_A_PLAYER',
    );
  });
  it('refuses a gift to yourself', async () => {
    await expectRefused(
      '/gifts/send',
      { giftId: 'gift_rose', recipientType: 'user', recipientId: 'alice' },
      422,
      'LEDGER_SELF_GIFT',
    );
    await expectRefused(
      '/games/game1/gifts/send',
      { giftId: 'gift_rose', recipientUserId: 'alice' },
      422,
      'LEDGER_SELF_GIFT',
    );
  });
  it('refuses quantities outside 1..99, fractional ones included', async () => {
    for (const quantity of [0, -1, 100, 1_000_000]) {
      await expectRefused(
        '/clubs/club1/gifts/send',
        { giftId: 'gift_rose', quantity },
        400,
        'LEDGER_INVALID_QUANTITY',
      );
    }
    await expectRefused(
      '/clubs/club1/gifts/send',
      { giftId: 'gift_rose', quantity: 1.5 },
      400,
      'LEDGER_VALIDATION_FAILED',
    );
    await expectRefused(
      '/clubs/club1/gifts/send',
      { giftId: 'gift_rose', quantity: 1e12 },
      400,
      'LEDGER_VALIDATION_FAILED',
    );
  });
  it('refuses a message over the length bound', () =>
    expectRefused(
      '/clubs/club1/gifts/send',
      { giftId: 'gift_rose', message: 'x'.repeat(201) },
      400,
      'LEDGER_MESSAGE_TOO_LONG',
    ));
});

describe('bad requests are 4xx with a code, never 500', () => {
  it('answers malformed bodies with 400 LEDGER_VALIDATION_FAILED', async () => {
    for (const body of [
      {},
      { giftId: 5 },
      { giftId: 'gift_rose', recipientType: 'planet', recipientId: 'x' },
      [],
      'null',
    ]) {
      await expectRefused('/gifts/send', body, 400, 'LEDGER_VALIDATION_FAILED');
    }
  });
  it('answers broken JSON with 400 and a non-JSON body with 415', async () => {
    const bad = await api.call('POST', '/gifts/send', { token: alice, body: '{"giftId":', headers: {} });
    expect(bad.status).toBe(400);
    expect(bad.body.success).toBe(false);
    const res = await fetch(`${ledger.url}/gifts/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/xml' },
      body: '<gift/>',
    });
    expect(res.status).toBe(415);
    expect((await res.json()).error.code).toBe('LEDGER_UNSUPPORTED_MEDIA_TYPE');
  });
  it('answers an oversized body with 413', async () => {
    const r = await api.call('POST', '/gifts/send', {
      token: alice,
      body: { giftId: 'gift_rose', message: 'x'.repeat(1_000_000) },
    });
    expect(r.status).toBe(413);
    expect(!r.body.success && r.body.error.code).toBe('LEDGER_PAYLOAD_TOO_LARGE');
  });
  it('answers an unknown route with 404 and a code', async () => {
    const r = await api.call('GET', '/nope', { token: alice });
    expect(r.status).toBe(404);
    expect(!r.body.success && r.body.error.code).toBe('LEDGER_ROUTE_NOT_FOUND');
  });
});

describe('authentication', () => {
  const body = { giftId: 'gift_rose', recipientType: 'user', recipientId: 'bob' };
  it('refuses a missing, malformed, expired, wrong-key, alg:none or wrong-sub token with 401', async () => {
    const expired = await signDevToken({ secret: TEST_JWT_SECRET, sub: 'alice', expiresInSec: -60 });
    const wrongKey = await signDevToken({ secret: 'another-secret-another-secret-1234567', sub: 'alice' });
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'alice', exp: 9e9 })).toString('base64url')}.`;
    const badSub = await signDevToken({ secret: TEST_JWT_SECRET, sub: 'a.b*c' });
    const hs512 = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('alice')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const cases: [string | undefined, string][] = [
      [undefined, 'AUTH_TOKEN_MISSING'],
      ['garbage', 'AUTH_TOKEN_INVALID'],
      [expired, 'AUTH_TOKEN_EXPIRED'],
      [wrongKey, 'AUTH_TOKEN_INVALID'],
      [none, 'AUTH_ALGORITHM_NOT_ALLOWED'],
      [badSub, 'AUTH_CLAIM_INVALID'],
      [hs512, 'AUTH_ALGORITHM_NOT_ALLOWED'],
    ];
    for (const [token, code] of cases) {
      const r = await api.call('POST', '/gifts/send', { ...(token ? { token } : {}), body });
      expect(r.status, code).toBe(401);
      expect(!r.body.success && r.body.error.code).toBe(code);
    }
  });
  it('keeps the admin API behind its own credential', async () => {
    const asUser = await api.call('GET', '/admin/audit', { token: await tokenFor('alice') });
    expect(asUser.status).toBe(401);
    expect(!asUser.body.success && asUser.body.error.code).toBe('LEDGER_ADMIN_UNAUTHORIZED');
    const grant = await api.call('POST', '/admin/users/alice/grants', { token: alice, body: { amount: 5 } });
    expect(grant.status).toBe(401);
  });
});

describe('a valid gift', () => {
  it('moves crowns from sender to recipient with a double entry', async () => {
    const r = await api.call<{ remainingCrowns: number; totalCost: number }>('POST', '/gifts/send', {
      token: alice,
      body: { giftId: 'gift_rose', recipientType: 'user', recipientId: 'bob', quantity: 2, message: 'hi' },
    });
    expect(r.status).toBe(200);
    expect(r.body.success && r.body.data).toMatchObject({ totalCost: 40, remainingCrowns: 60 });
    const bob = await api.call<{ balance: number }>('GET', '/wallet', { token: await tokenFor('bob') });
    expect(bob.body.success && bob.body.data.balance).toBe(40);
    const [entry] = await ledger.app.sql<
      { debit_before: number; debit_after: number; credit_before: number; credit_after: number }[]
    >`
      SELECT debit_before, debit_after, credit_before, credit_after FROM entries WHERE kind = 'gift'`;
    expect(entry).toEqual({ debit_before: 100, debit_after: 60, credit_before: 0, credit_after: 40 });
    expect(await api.audit()).toEqual({ totalSum: 0, circulating: 100, issued: 100, negativeBalances: 0 });
  });
  it('keeps entries append-only', async () => {
    await expect(ledger.app.sql`UPDATE entries SET amount = 1`).rejects.toThrow(/append-only/);
    await expect(ledger.app.sql`DELETE FROM entries`).rejects.toThrow(/append-only/);
  });
});
