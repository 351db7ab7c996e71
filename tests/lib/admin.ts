import { TEST_ADMIN_TOKEN } from '@crowncast/testkit';
import { request } from 'undici';

/** The money invariants the ledger reports (GET /admin/audit). */
export interface Audit {
  totalSum: number;
  circulating: number;
  issued: number;
  negativeBalances: number;
}

/** Calls the ledger's admin API; throws on anything but 200 (setup must not half-succeed). */
export async function adminCall<T = unknown>(
  baseUrl: string,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await request(baseUrl + path, {
    method,
    headers: {
      authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? null : JSON.stringify(body),
    headersTimeout: 30_000,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { data: T }).data;
}

export function audit(baseUrl: string): Promise<Audit> {
  return adminCall<Audit>(baseUrl, 'GET', '/admin/audit');
}

/** Runs fn(0..n-1) with at most `concurrency` in flight. */
export async function inParallel(n: number, concurrency: number, fn: (i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

/** A world of clubs, each with its own members; every member holds `crowns`. */
export interface World {
  clubs: string[];
  /** members[c] are the user ids of clubs[c]. */
  members: string[][];
  giftId: string;
  giftPrice: number;
}

export function worldNames(prefix: string, clubs: number, perClub: number): World {
  const clubIds = Array.from({ length: clubs }, (_, c) => `${prefix}c${c}`);
  return {
    clubs: clubIds,
    members: clubIds.map((_, c) => Array.from({ length: perClub }, (_, m) => `${prefix}u${c}_${m}`)),
    giftId: `${prefix}rose`,
    giftPrice: 1,
  };
}

/**
 * Creates the world through the admin API (one request per row: there is no bulk endpoint),
 * `concurrency` requests at a time. Returns the seconds it took.
 */
export async function seedWorld(
  baseUrl: string,
  w: World,
  crowns: number,
  concurrency = 32,
): Promise<number> {
  const t0 = performance.now();
  await adminCall(baseUrl, 'PUT', `/admin/gifts/${w.giftId}`, {
    name: 'Rose',
    icon: 'r',
    category: 'basic',
    rarity: 'common',
    price: w.giftPrice,
    animationUrl: '/a/rose.json',
    audioUrl: '/a/rose.mp3',
    animationDurationMs: 1000,
  });
  await inParallel(w.clubs.length, concurrency, (c) =>
    adminCall(baseUrl, 'PUT', `/admin/clubs/${w.clubs[c]}`, { name: `club ${c}` }).then(() => {}),
  );
  const users = w.members.flatMap((ms, c) => ms.map((u) => ({ u, club: w.clubs[c] as string })));
  await inParallel(users.length, concurrency, async (i) => {
    const { u, club } = users[i] as { u: string; club: string };
    await adminCall(baseUrl, 'PUT', `/admin/users/${u}`, { username: u });
    await adminCall(baseUrl, 'PUT', `/admin/clubs/${club}/members/${u}`);
    if (crowns > 0) await adminCall(baseUrl, 'POST', `/admin/users/${u}/grants`, { amount: crowns });
  });
  return (performance.now() - t0) / 1000;
}
