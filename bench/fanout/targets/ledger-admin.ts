import { ledgerApi } from '@crowncast/testkit';

/**
 * Creates the bench's users, clubs and memberships through the ledger's admin API (testkit's client;
 * one request per row: the API has no bulk endpoint), `concurrency` requests at a time.
 */
export async function seedMembers(
  ledgerUrl: string,
  o: { users: number; clubs: number; userPrefix: string; clubPrefix: string },
  concurrency = 32,
): Promise<{ requests: number; seconds: number }> {
  const api = ledgerApi(ledgerUrl);
  const all = async (n: number, fn: (i: number) => Promise<unknown>) => {
    let next = 0;
    const worker = async () => {
      while (next < n) await fn(next++);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  };
  const start = performance.now();
  await all(o.clubs, (i) =>
    api.admin('PUT', `/admin/clubs/${o.clubPrefix}${i}`, { name: `bench club ${i}` }),
  );
  await all(o.users, (i) => api.admin('PUT', `/admin/users/${o.userPrefix}${i}`, { username: `bench${i}` }));
  await all(o.users, (i) =>
    api.admin('PUT', `/admin/clubs/${o.clubPrefix}${i % o.clubs}/members/${o.userPrefix}${i}`),
  );
  return { requests: o.clubs + 2 * o.users, seconds: (performance.now() - start) / 1000 };
}
