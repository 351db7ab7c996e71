import { TEST_ADMIN_TOKEN } from '@crowncast/testkit';
import { Pool } from 'undici';

/**
 * Creates the bench's users, clubs and memberships through the ledger's admin API (one request per
 * row: the API has no bulk endpoint). Requests run `concurrency` at a time; the count is bounded.
 */
export async function seedMembers(
  ledgerUrl: string,
  o: { users: number; clubs: number; userPrefix: string; clubPrefix: string },
  concurrency = 32,
): Promise<{ requests: number; seconds: number }> {
  const pool = new Pool(ledgerUrl, { connections: concurrency });
  const headers = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const put = async (path: string, body?: unknown) => {
    const res = await pool.request({
      method: 'PUT',
      path,
      headers: body === undefined ? { authorization: headers.authorization } : headers,
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`PUT ${path}: ${res.statusCode} ${text.slice(0, 200)}`);
  };
  const all = async (n: number, fn: (i: number) => Promise<void>) => {
    let next = 0;
    const worker = async () => {
      while (next < n) await fn(next++);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  };
  const start = performance.now();
  try {
    await all(o.clubs, (i) => put(`/admin/clubs/${o.clubPrefix}${i}`, { name: `bench club ${i}` }));
    await all(o.users, (i) => put(`/admin/users/${o.userPrefix}${i}`, { username: `bench${i}` }));
    await all(o.users, (i) => put(`/admin/clubs/${o.clubPrefix}${i % o.clubs}/members/${o.userPrefix}${i}`));
  } finally {
    await pool.close();
  }
  return { requests: o.clubs + 2 * o.users, seconds: (performance.now() - start) / 1000 };
}
