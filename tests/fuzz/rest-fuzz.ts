import { randomUUID } from 'node:crypto';
import { signDevToken } from '@crowncast/auth';
import { cleanup, isolation, serviceUrls, TEST_ADMIN_TOKEN, TEST_JWT_SECRET } from '@crowncast/testkit';
import postgres from 'postgres';
import { request } from 'undici';
import { adminCall, inParallel } from '../lib/admin.js';
import { Stack } from '../lib/stack.js';
import { ledgerCodes } from './documented.js';
import { type FuzzWorld, makeCases, REST_CLASSES, type RestCase, rng } from './rest-cases.js';

/** Every code docs/ledger.md documents, with its status (read from the doc). */
export const DOCUMENTED: Record<string, number> = ledgerCodes();

export interface FuzzRow {
  class: string;
  cases: number;
  outcomes: Record<string, number>;
  status_5xx: number;
  crowns_moved: number;
  /** Answers that are not a documented 4xx with its code (each a finding). */
  undocumented: { note: string; method: string; path: string; status: number; body: string }[];
}

const AUDIENCE = 'crowncast-fuzz';

/** Sum and count of every ledger entry: if either changes, crowns moved. */
export async function moneySnapshot(schema: string): Promise<{ n: number; sum: number; maxId: number }> {
  const sql = postgres(serviceUrls.database, { max: 1, onnotice: () => {} });
  try {
    const [r] = await sql<{ n: number; sum: string; max: string }[]>`
      SELECT count(*)::int AS n, coalesce(sum(amount), 0)::text AS sum, coalesce(max(id), 0)::text AS max
      FROM ${sql(schema)}.entries`;
    return { n: r?.n ?? 0, sum: Number(r?.sum ?? 0), maxId: Number(r?.max ?? 0) };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function send(base: string, c: RestCase): Promise<{ status: number; body: string }> {
  try {
    const res = await request(base + c.path, {
      method: c.method as 'GET',
      headers: c.headers,
      ...(c.body !== undefined ? { body: c.body } : {}),
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
    return { status: res.statusCode, body: await res.body.text() };
  } catch (e) {
    // The server cut the connection (or never answered): that is an outcome too, and a finding.
    return { status: 0, body: String((e as Error).message) };
  }
}

/** The verdict on one answer: its outcome label, and whether it is documented. */
function judge(status: number, body: string): { label: string; ok: boolean } {
  let code: string | undefined;
  try {
    code = (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  const label = `${status} ${code ?? '(no code)'}`;
  const ok = status >= 400 && status < 500 && code !== undefined && DOCUMENTED[code] === status;
  return { label, ok };
}

/**
 * Starts a ledger with an audience-checking verifier, builds the fixture, fires `perClass` cases
 * of every class (16 at a time) and checks every answer and the money after each class.
 */
export async function runRestFuzz(
  perClass: number,
  seed = Number(process.env.FUZZ_SEED ?? 1),
): Promise<FuzzRow[]> {
  const iso = isolation();
  const stack = new Stack(iso, {
    edges: 0,
    presence: false,
    ledgerEnv: { JWT_AUDIENCE: AUDIENCE },
  });
  try {
    await stack.start();
    const base = stack.ledger.url;
    const p = `f${iso.id}`;
    const tok = (sub: string) =>
      signDevToken({ secret: TEST_JWT_SECRET, sub, audience: AUDIENCE, expiresInSec: 3600 });
    const w: FuzzWorld = {
      alice: `${p}alice`,
      bob: `${p}bob`,
      aliceToken: await tok(`${p}alice`),
      bobToken: await tok(`${p}bob`),
      audience: AUDIENCE,
      adminToken: TEST_ADMIN_TOKEN,
      clubA: `${p}clubA`,
      clubB: `${p}clubB`,
      game: `${p}game`,
      giftId: `${p}rose`,
      reusedKey: randomUUID(),
      reusedBody: '',
    };
    await adminCall(base, 'PUT', `/admin/gifts/${w.giftId}`, {
      name: 'Rose',
      icon: 'r',
      category: 'basic',
      rarity: 'common',
      price: 5,
      animationUrl: '/a.json',
      audioUrl: '/a.mp3',
      animationDurationMs: 1000,
    });
    for (const u of [w.alice, w.bob]) {
      await adminCall(base, 'PUT', `/admin/users/${u}`, { username: u });
      await adminCall(base, 'POST', `/admin/users/${u}/grants`, { amount: 1000 });
    }
    await adminCall(base, 'PUT', `/admin/clubs/${w.clubA}`, { name: 'A' });
    await adminCall(base, 'PUT', `/admin/clubs/${w.clubB}`, { name: 'B' });
    await adminCall(base, 'PUT', `/admin/clubs/${w.clubA}/members/${w.alice}`);
    await adminCall(base, 'PUT', `/admin/clubs/${w.clubB}/members/${w.bob}`);
    await adminCall(base, 'PUT', `/admin/games/${w.game}`, { name: 'G' });
    await adminCall(base, 'PUT', `/admin/games/${w.game}/players/${w.alice}`);
    // One real gift, so "the same key with another request" has a first request to collide with.
    w.reusedBody = `{"giftId":"${w.giftId}","quantity":1}`;
    const first = await send(base, {
      cls: 'setup',
      method: 'POST',
      path: `/clubs/${w.clubA}/gifts/send`,
      note: 'first use of the key',
      headers: {
        authorization: `Bearer ${w.aliceToken}`,
        'content-type': 'application/json',
        'idempotency-key': w.reusedKey,
      },
      body: w.reusedBody,
    });
    if (first.status !== 200) throw new Error(`setup gift failed: ${first.status} ${first.body}`);

    const rand = rng(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
    const rows: FuzzRow[] = [];
    for (const cls of REST_CLASSES) {
      const cases = makeCases(cls, perClass, w, pick, rand);
      const before = await moneySnapshot(iso.schema);
      const row: FuzzRow = {
        class: `REST: ${cls}`,
        cases: cases.length,
        outcomes: {},
        status_5xx: 0,
        crowns_moved: 0,
        undocumented: [],
      };
      await inParallel(cases.length, 16, async (i) => {
        const c = cases[i] as RestCase;
        const r = await send(base, c);
        const { label, ok } = judge(r.status, r.body);
        row.outcomes[label] = (row.outcomes[label] ?? 0) + 1;
        if (r.status >= 500 || r.status === 0) row.status_5xx++;
        if (!ok && row.undocumented.length < 20) {
          row.undocumented.push({
            note: c.note,
            method: c.method,
            path: c.path.slice(0, 120),
            status: r.status,
            body: r.body.slice(0, 300),
          });
        }
      });
      const after = await moneySnapshot(iso.schema);
      row.crowns_moved = after.sum - before.sum;
      if (after.n !== before.n && row.crowns_moved === 0) row.crowns_moved = after.n - before.n;
      rows.push(row);
    }
    return rows;
  } finally {
    await stack.stop();
    await cleanup(iso).catch(() => {});
  }
}
