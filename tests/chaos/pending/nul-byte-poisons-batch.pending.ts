import { cleanup, isolation, tokenFor } from '@crowncast/testkit';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, audit } from '../../lib/admin.js';
import { Stack } from '../../lib/stack.js';

/**
 * Found by the REST fuzzer (class "unicode"). A gift whose recipientId (also giftId, the clubId /
 * gameId path parameter or recipientUserId) contains U+0000 reaches PostgreSQL as a query parameter;
 * PostgreSQL refuses it ("invalid byte sequence for encoding UTF8: 0x00", 22021) in loadState
 * (services/ledger/src/gifts/store.ts), the whole micro-batch fails, and every other user's valid gift
 * that was batched with it is answered 500 LEDGER_INTERNAL too. Expected: the hostile request gets a
 * documented 4xx (400 LEDGER_VALIDATION_FAILED, or 404 ..._NOT_FOUND), and the others commit (200).
 */
const iso = isolation();
const stack = new Stack(iso, { edges: 0, presence: false });
let token = '';

beforeAll(async () => {
  await stack.start();
  const base = stack.ledger.url;
  await adminCall(base, 'PUT', '/admin/gifts/rose', {
    name: 'Rose',
    icon: 'r',
    category: 'basic',
    rarity: 'common',
    price: 1,
    animationUrl: '/a.json',
    audioUrl: '/a.mp3',
    animationDurationMs: 1000,
  });
  for (const u of ['al', 'bob']) await adminCall(base, 'PUT', `/admin/users/${u}`, { username: u });
  await adminCall(base, 'POST', '/admin/users/al/grants', { amount: 1000 });
  token = await tokenFor('al');
});
afterAll(async () => {
  await stack.stop();
  await cleanup(iso);
});

async function send(recipientId: string): Promise<{ status: number; code?: string }> {
  const res = await request(`${stack.ledger.url}/gifts/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ giftId: 'rose', quantity: 1, recipientType: 'user', recipientId }),
  });
  const body = (await res.body.json()) as { error?: { code?: string } };
  return { status: res.statusCode, ...(body.error?.code ? { code: body.error.code } : {}) };
}

describe('a NUL byte in an id', () => {
  it('is refused with a documented 4xx and does not fail the gifts batched with it', async () => {
    const first = send('bob'); // opens a transaction, so the next requests wait and batch together
    const answers = await Promise.all([
      first,
      send('bob'),
      send('bob'),
      send('b\u0000b'),
      send('bob'),
      send('bob'),
    ]);
    const hostile = answers[3] as { status: number; code?: string };
    expect(hostile.status).toBeGreaterThanOrEqual(400);
    expect(hostile.status).toBeLessThan(500);
    expect(answers.filter((_, i) => i !== 3).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    const a = await audit(stack.ledger.url);
    expect(a.totalSum).toBe(0);
  });
});
