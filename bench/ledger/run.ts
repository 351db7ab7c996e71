import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import {
  cleanup,
  isolation,
  REPO_ROOT,
  serviceEnv,
  serviceUrls,
  spawnService,
  TEST_ADMIN_TOKEN,
  tokenFor,
} from '@crowncast/testkit';
import postgres from 'postgres';
import { closedLoop, openLoop, type Request, type Sample, summarize } from './load.js';

/**
 * bench:ledger — committed gifts per second and latency through the real HTTP API, against
 * pgbench's TPC-B on the same PostgreSQL in the same run.
 *   BENCH_SECONDS (default 15) per phase, BENCH_ROUNDS (default 3) of pgbench then (a),
 *   BENCH_CONCURRENCY (default 32) clients, BENCH_USERS (default 1000).
 * Then (b) the hot club, (c) (a) at half its peak in open loop, and (d) the HTTP floor: CPU per
 * request of the ledger and of this load generator for gifts refused before Redis and PostgreSQL.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const USERS = Number(process.env.BENCH_USERS ?? 1000);
const CLUB_SIZE = 10;
const GIFTS: [string, number][] = [
  ['b_coffee', 10],
  ['b_rose', 20],
  ['b_star', 50],
  ['b_cake', 80],
  ['b_crown', 150],
];

const log = (...a: unknown[]) => console.log('[bench:ledger]', ...a);

async function admin(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(url + path, {
    method,
    headers: { 'x-admin-token': TEST_ADMIN_TOKEN, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

async function inParallel<T>(items: T[], n: number, fn: (x: T) => Promise<void>) {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++] as T);
    }),
  );
}

function pgbench(seconds: number, clients: number): number {
  const u = new URL(serviceUrls.database);
  const conn = ['-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres')];
  const db = 'crowncast_pgbench';
  try {
    execFileSync('psql', [...conn, '-d', u.pathname.slice(1) || 'postgres', '-qc', `CREATE DATABASE ${db}`], {
      stdio: 'ignore',
    });
  } catch {
    // exists already
  }
  execFileSync('pgbench', [...conn, '-i', '-q', '-s', '10', db], { stdio: 'ignore' });
  const out = execFileSync(
    'pgbench',
    [
      ...conn,
      '-c',
      String(clients),
      '-j',
      String(Math.min(clients, cpus().length)),
      '-T',
      String(seconds),
      db,
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(out);
  if (!m) throw new Error(`could not read pgbench's tps:\n${out}`);
  return Number(m[1]);
}

/** Clock ticks (1/100 s) of CPU a process used, its own plus its waited-for children's; null once gone. */
function cpuTicks(pid: number | string): { own: number; children: number; name: string } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // exited meanwhile
  }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    own: Number(f[11]) + Number(f[12]),
    children: Number(f[13]) + Number(f[14]),
    name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
  };
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  return (cpuTicks(pid)?.own ?? 0) / 100;
}

/**
 * CPU milliseconds every PostgreSQL process on this machine has used so far: the live ones, plus what
 * the postmaster collected from backends that already exited (pgbench's, when its run ends).
 */
function postgresCpuMs(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const t = cpuTicks(pid);
    if (t?.name === 'postgres') ticks += t.own + t.children;
  }
  return ticks * 10;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main() {
  const iso = isolation();
  const env = serviceEnv(iso, {
    GIFT_RATE_LIMIT_PER_MIN: '100000000',
    GIFT_SPAM_SAME_PER_MIN: '100000000',
    DATABASE_POOL_MAX: '12',
  });
  const ledger = await spawnService('services/ledger/src/server.ts', env, 30_000, { logLevel: 'warn' });
  const sql = postgres(serviceUrls.database, {
    max: 2,
    onnotice: () => {},
    connection: { search_path: iso.schema },
  });
  try {
    log(`ledger at ${ledger.url}; setting up ${USERS} users, ${USERS / CLUB_SIZE} clubs, a hot club of all`);
    const users = Array.from({ length: USERS }, (_, i) => `bu${i}`);
    const clubs = Array.from({ length: USERS / CLUB_SIZE }, (_, i) => `bc${i}`);
    for (const [id, price] of GIFTS) {
      await admin(ledger.url, 'PUT', `/admin/gifts/${id}`, {
        name: id,
        icon: '🎁',
        category: 'basic',
        rarity: 'common',
        price,
        animationUrl: '/a.json',
        audioUrl: '/a.mp3',
        animationDurationMs: 3000,
      });
    }
    await inParallel(users, 16, async (u) => {
      await admin(ledger.url, 'PUT', `/admin/users/${u}`, { username: u });
      await admin(ledger.url, 'POST', `/admin/users/${u}/grants`, { amount: 100_000_000 });
    });
    const levels = {
      levels: [
        { name: 'Bronze', target: 10_000 },
        { name: 'Silver', target: 1_000_000 },
        { name: 'Gold', target: 1_000_000_000 },
      ],
    };
    const event = {
      name: 'Bench rally',
      goal: 1_000_000_000,
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 86_400_000).toISOString(),
      rewardClubExperience: 1,
      rewardMemberCrowns: 1,
    };
    await inParallel([...clubs, 'hot'], 8, async (c) => {
      await admin(ledger.url, 'PUT', `/admin/clubs/${c}`, { name: c });
      await admin(ledger.url, 'PUT', `/admin/clubs/${c}/threshold-levels`, levels);
      await admin(ledger.url, 'POST', `/admin/clubs/${c}/events`, event);
    });
    await inParallel(users, 16, async (u) => {
      const i = Number(u.slice(2));
      await admin(ledger.url, 'PUT', `/admin/clubs/bc${Math.floor(i / CLUB_SIZE)}/members/${u}`);
      await admin(ledger.url, 'PUT', `/admin/clubs/hot/members/${u}`);
    });
    const tokens = await Promise.all(users.map((u) => tokenFor(u, { expiresInSec: 3600 })));
    const rand = (n: number) => Math.floor(Math.random() * n);
    const gift = () => GIFTS[rand(GIFTS.length)]![0];

    // (a) spread: 70% to one of the sender's clubs, 30% to another user.
    const spread: Request = () => {
      const i = rand(USERS);
      if (Math.random() < 0.7)
        return {
          path: `/clubs/bc${Math.floor(i / CLUB_SIZE)}/gifts/send`,
          token: tokens[i]!,
          body: { giftId: gift() },
        };
      const j = (i + 1 + rand(USERS - 1)) % USERS;
      return {
        path: '/gifts/send',
        token: tokens[i]!,
        body: { giftId: gift(), recipientType: 'user', recipientId: users[j] },
      };
    };
    // (d) a gift the stateless rules refuse (quantity 1..99): a 400 before Redis and PostgreSQL.
    const refused: Request = () => {
      const i = rand(USERS);
      return {
        path: '/gifts/send',
        token: tokens[i]!,
        body: { giftId: gift(), recipientType: 'user', recipientId: users[(i + 1) % USERS], quantity: 100 },
      };
    };
    // (b) every gift to one hot club.
    const hot: Request = () => ({
      path: '/clubs/hot/gifts/send',
      token: tokens[rand(USERS)]!,
      body: { giftId: gift() },
    });

    log('warm-up');
    await closedLoop(ledger.url, CONCURRENCY, 2, spread);
    // Like pgbench -i, which vacuums and analyzes its tables once they are loaded: the planner gets the
    // statistics of a database in use, not the empty-table guesses of a schema made a minute ago
    // (plans PostgreSQL cached while gift_transactions was empty would scan it whole ever after).
    const tables = await sql<{ name: string }[]>`
      SELECT tablename AS name FROM pg_tables WHERE schemaname = ${iso.schema}`;
    for (const t of tables) await sql`VACUUM ANALYZE ${sql(t.name)}`;

    // pgbench and (a) alternate ROUNDS times; the figures are the medians, the ratio the median of
    // the rounds' own ratios: this machine is shared, and one pair of runs can differ by a third.
    const pid = ledger.proc.pid as number;
    const rounds: {
      pgbenchTps: number;
      pgPerTpcb: number;
      run: Sample;
      cpuPerGift: number;
      pgPerGift: number;
    }[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      log(`round ${r}/${ROUNDS}: pgbench TPC-B, ${CONCURRENCY} clients, ${SECONDS} s`);
      const pg0 = postgresCpuMs();
      const pgbenchTps = pgbench(SECONDS, CONCURRENCY);
      const pgPerTpcb = (postgresCpuMs() - pg0) / (pgbenchTps * SECONDS);
      log(`round ${r}/${ROUNDS}: (a) spread, ${CONCURRENCY} concurrent senders, ${SECONDS} s`);
      const cpu0 = cpuSeconds(pid);
      const pg1 = postgresCpuMs();
      const run = await closedLoop(ledger.url, CONCURRENCY, SECONDS, spread);
      const ok = Math.max(1, run.ok);
      rounds.push({
        pgbenchTps,
        pgPerTpcb,
        run,
        cpuPerGift: ((cpuSeconds(pid) - cpu0) * 1000) / ok,
        pgPerGift: (postgresCpuMs() - pg1) / ok,
      });
      log(`  pgbench ${Math.round(pgbenchTps)} tx/s, spread ${Math.round(run.ok / run.seconds)} gifts/s`);
    }
    const byRate = [...rounds].sort((x, y) => x.run.ok / x.run.seconds - y.run.ok / y.run.seconds);
    const mid = byRate[Math.floor(byRate.length / 2)]!;
    const pgbenchTps = median(rounds.map((r) => r.pgbenchTps));
    const pgPerTpcb = median(rounds.map((r) => r.pgPerTpcb));
    const cpuPerGiftA = median(rounds.map((r) => r.cpuPerGift));
    const pgPerGiftA = median(rounds.map((r) => r.pgPerGift));
    const spreadRatio = median(rounds.map((r) => r.run.ok / r.run.seconds / r.pgbenchTps));
    const a = summarize(mid.run);
    log(`(b) hot club: ${CONCURRENCY} concurrent senders, ${SECONDS} s`);
    const cpu0 = cpuSeconds(pid);
    const pg0 = postgresCpuMs();
    const bRun = await closedLoop(ledger.url, CONCURRENCY, SECONDS, hot);
    const cpuPerGiftB = ((cpuSeconds(pid) - cpu0) * 1000) / Math.max(1, bRun.ok);
    const pgPerGiftB = (postgresCpuMs() - pg0) / Math.max(1, bRun.ok);
    const b = summarize(bRun);
    const half = Math.max(1, Math.round(a.gifts_per_s / 2));
    log(`(c) spread at half the peak rate: ${half} gifts/s open loop, ${SECONDS} s`);
    const c = summarize(await openLoop(ledger.url, half, SECONDS, spread));
    // (d) What every gift pays before its rules reach Redis or PostgreSQL: HTTP, the JWT check, the
    // body's schema and the stateless rules, measured on gifts refused for their quantity (400).
    log(`(d) HTTP floor: gifts refused for their quantity, ${CONCURRENCY} concurrent senders, ${SECONDS} s`);
    const cpuD = cpuSeconds(pid);
    const ownD = process.cpuUsage();
    const dRun = await closedLoop(ledger.url, CONCURRENCY, SECONDS, refused);
    const own = process.cpuUsage(ownD);
    // Every request counts as ok or failed; only those answered have a status.
    const dCount = Math.max(1, dRun.ok + dRun.failed);
    if (dRun.statuses.get(400) !== dCount)
      throw new Error(
        `(d) expected only 400s, got ${JSON.stringify(Object.fromEntries(dRun.statuses))} of ${dCount}`,
      );
    const floor = {
      requests_per_s: Math.round(dCount / dRun.seconds),
      ledger_cpu_ms: Math.round(((cpuSeconds(pid) - cpuD) * 1e6) / dCount) / 1000,
      load_generator_cpu_ms: Math.round((own.user + own.system) / dCount) / 1000,
    };

    const [lag] = await sql<
      { pending: number }[]
    >`SELECT count(*)::int AS pending FROM outbox WHERE published_at IS NULL`;
    const [batch] = await sql<{ gifts: number; txs: number }[]>`
      SELECT count(*)::int AS gifts, count(DISTINCT xid::text)::int AS txs FROM outbox WHERE type = 'gift:received'`;
    const result = {
      pgbench_tps: Math.round(pgbenchTps),
      spread: { gifts_per_s: a.gifts_per_s, p50_ms: a.p50_ms, p95_ms: a.p95_ms, p99_ms: a.p99_ms },
      hot_club: { gifts_per_s: b.gifts_per_s, p50_ms: b.p50_ms, p95_ms: b.p95_ms, p99_ms: b.p99_ms },
      p99_at_half_peak_ms: c.p99_ms,
      ratios: {
        spread_vs_pgbench: Math.round(spreadRatio * 100) / 100,
        hot_vs_spread: Math.round((b.gifts_per_s / a.gifts_per_s) * 100) / 100,
      },
      run: {
        seconds: SECONDS,
        rounds: rounds.map((r) => ({
          pgbench_tps: Math.round(r.pgbenchTps),
          spread_gifts_per_s: Math.round((r.run.ok / r.run.seconds) * 10) / 10,
          ratio: Math.round((r.run.ok / r.run.seconds / r.pgbenchTps) * 100) / 100,
        })),
        concurrency: CONCURRENCY,
        users: USERS,
        half_peak_rate: half,
        refused: { spread: a.refused, hot_club: b.refused, half_peak: c.refused },
        statuses: { spread: a.statuses, hot_club: b.statuses },
        // (d): CPU per request of the ledger and of this load generator, before Redis and PostgreSQL.
        http_floor: floor,
        gifts_per_transaction: batch?.txs ? Math.round((batch.gifts / batch.txs) * 10) / 10 : null,
        outbox_pending_at_end: lag?.pending ?? null,
        // The ledger process's own CPU per committed gift (HTTP, rules, SQL, and its outbox relay).
        ledger_cpu_ms_per_gift: {
          spread: Math.round(cpuPerGiftA * 1000) / 1000,
          hot_club: Math.round(cpuPerGiftB * 1000) / 1000,
        },
        // PostgreSQL's CPU (every postgres process) per pgbench transaction and per committed gift.
        postgres_cpu_ms: {
          per_tpcb_transaction: Math.round(pgPerTpcb * 1000) / 1000,
          per_gift_spread: Math.round(pgPerGiftA * 1000) / 1000,
          per_gift_hot_club: Math.round(pgPerGiftB * 1000) / 1000,
        },
        load_average: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
        cpus: cpus().length,
        date: new Date().toISOString(),
      },
    };
    console.table({
      pgbench: { 'tx/s': result.pgbench_tps, p50: '', p95: '', p99: '' },
      'gifts spread': { 'tx/s': a.gifts_per_s, p50: a.p50_ms, p95: a.p95_ms, p99: a.p99_ms },
      'gifts hot club': { 'tx/s': b.gifts_per_s, p50: b.p50_ms, p95: b.p95_ms, p99: b.p99_ms },
      [`spread @ ${half}/s`]: { 'tx/s': c.gifts_per_s, p50: c.p50_ms, p95: c.p95_ms, p99: c.p99_ms },
      'HTTP floor (400s)': { 'tx/s': floor.requests_per_s, p50: '', p95: '', p99: '' },
    });
    console.log(JSON.stringify(result, null, 2));
    mkdirSync(`${REPO_ROOT}bench/results`, { recursive: true });
    writeFileSync(`${REPO_ROOT}bench/results/ledger.json`, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await sql.end({ timeout: 5 });
    await ledger.stop('SIGTERM');
    await cleanup(iso);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
