import { loadavg } from 'node:os';
import { cleanup, isolation, serviceUrls } from '@crowncast/testkit';
import { connect } from '@nats-io/transport-node';
import postgres from 'postgres';
import { edgeRssMb } from '../../tests/fuzz/ws-world.js';
import { seedWorld, worldNames } from '../../tests/lib/admin.js';
import { Gifter } from '../../tests/lib/gifter.js';
import { printTable, writeResult } from '../../tests/lib/report.js';
import { Stack, sleep, waitFor } from '../../tests/lib/stack.js';
import { unpublishedCount } from '../../tests/lib/verify.js';
import { percentiles, round } from '../fanout/stats.js';
import { MemberPool } from './pool.js';

/**
 * `pnpm bench:e2e`: club gifts through the ledger's REST API at E2E_RATE/s (default 300, about 18×
 * the product spec's peak) into E2E_CLUBS rooms (500) of E2E_PER_CLUB member sockets (20) spread
 * over two edges, for E2E_SECONDS (30). Latency is from each event's `ts` (the ledger's commit
 * time) to its arrival on a member socket; lost and duplicated are counted per socket against the
 * gifts PostgreSQL committed in its club. Writes bench/results/e2e.json.
 */
const num = (name: string, def: number) => Number(process.env[name] ?? def);
const rate = num('E2E_RATE', 300);
const seconds = num('E2E_SECONDS', 30);
const clubs = num('E2E_CLUBS', 500);
const perClub = num('E2E_PER_CLUB', 20);
const sockets = clubs * perClub;

const iso = isolation();
const stack = new Stack(iso, {
  edges: num('E2E_EDGES', 2),
  presence: false,
  ledgerEnv: { GIFT_RATE_LIMIT_PER_MIN: '1000000', GIFT_SPAM_SAME_PER_MIN: '1000000' },
  edgeEnv: { WS_MAX_CONNECTIONS_PER_USER: '1000', WS_MAX_MESSAGES_PER_MIN: '1000000' },
});
let pool: MemberPool | null = null;
try {
  const t0 = performance.now();
  await stack.start();
  const world = worldNames(`e${iso.id}`, clubs, perClub);
  const seedS = await seedWorld(stack.ledger.url, world, 1_000_000, 64);
  console.error(`seeded ${clubs} clubs, ${sockets} members with crowns in ${seedS.toFixed(1)} s`);
  pool = await MemberPool.start(num('E2E_PROCS', 4));
  const tc = performance.now();
  const conn = await pool.connect(sockets, {
    edgeUrls: stack.edgeUrls(),
    clubs,
    userPrefix: `e${iso.id}u`,
    clubPrefix: `e${iso.id}c`,
    spreadMs: num('E2E_CONNECT_SPREAD_MS', 10_000),
  });
  const connectS = (performance.now() - tc) / 1000;
  console.error(
    `${conn.connected}/${sockets} sockets in their rooms in ${connectS.toFixed(1)} s`,
    conn.failed,
  );
  const gifter = new Gifter(world, () => stack.ledger.url, { ratePerSec: rate, maxInflight: 1000 });
  await gifter.prepare();
  const setupS = (performance.now() - t0) / 1000;

  // The bus hop alone: ts to the republished copy on live.room.> (what the edges receive).
  const nc = await connect({ servers: serviceUrls.nats });
  const hop: number[] = [];
  nc.subscribe(`${iso.prefix}live.room.club.>`, {
    callback: (_e, m) => {
      const e = m.json<{ type: string; ts: string }>();
      if (e.type === 'gift:received' && hop.length < 200_000) hop.push(Date.now() - Date.parse(e.ts));
    },
  });
  const ts = performance.now();
  gifter.start();
  await sleep(seconds * 1000);
  await gifter.stop();
  const sendS = (performance.now() - ts) / 1000;
  await waitFor(async () => (await unpublishedCount(iso)) === 0, 30_000, 200);
  await nc.drain();

  const expected = await committedPerClub(world.clubs);
  const committed = [...expected.values()].reduce((a, n) => a + n, 0);
  const lostNow = async () => {
    const r = await (pool as MemberPool).report();
    const lost = r.perSocket.reduce((a, [c, got]) => a + Math.max(0, (expected.get(c) ?? 0) - got), 0);
    return { r, lost };
  };
  let last = await lostNow();
  const settleDeadline = Date.now() + 20_000;
  while (last.lost > 0 && Date.now() < settleDeadline) {
    await sleep(500);
    last = await lostNow();
  }
  const p = percentiles(last.r.latencies);
  const rss = await Promise.all(stack.edgeUrls().map(edgeRssMb));
  const result = {
    gifts_per_s: round(committed / sendS),
    sockets: last.r.connected,
    ...p,
    lost: last.lost + (sockets - last.r.connected) * Math.round(committed / clubs),
    duplicated: last.r.duplicated,
    run: {
      rate_target: rate,
      seconds: round(sendS),
      gifts_sent: gifter.gifts.length,
      committed,
      answered_200: gifter.count('committed'),
      statuses: gifter.statuses,
      bus_hop_ms: percentiles(hop),
      deliveries_expected: last.r.perSocket.reduce((a, [c]) => a + (expected.get(c) ?? 0), 0),
      latency_samples: last.r.latencies.length,
      sockets_dropped: last.r.dropped,
      setup_s: round(setupS),
      seed_s: round(seedS),
      connect_s: round(connectS),
      edge_rss_mb: rss.map((m) => round(m)),
      load_avg_1m: round(loadavg()[0] ?? 0, 2),
    },
  };
  printTable(
    `e2e: ${rate}/s target over ${sockets} sockets (setup ${setupS.toFixed(0)} s)`,
    [result as unknown as Record<string, unknown>],
    ['gifts_per_s', 'sockets', 'p50_ms', 'p95_ms', 'p99_ms', 'lost', 'duplicated'],
  );
  console.log(JSON.stringify(result.run));
  console.log(`wrote ${writeResult('e2e', result)}`);
} catch (err) {
  // Say which service died and why, instead of only the client-side ECONNREFUSED.
  for (const name of stack.crashed()) {
    const svc = stack.services().find((s) => s.name === name)?.svc;
    console.error(`${name} exited (${svc?.proc.exitCode}):\n${svc?.logs.slice(-20).join('\n')}`);
  }
  throw err;
} finally {
  await pool?.close();
  await stack.stop();
  await cleanup(iso).catch(() => {});
}
process.exit(0);

/** Club gifts PostgreSQL committed, by club index. */
async function committedPerClub(clubIds: string[]): Promise<Map<number, number>> {
  const sql = postgres(serviceUrls.database, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ id: string; n: number }[]>`
      SELECT context_id AS id, count(*)::int AS n FROM ${sql(iso.schema)}.gift_transactions
      WHERE context_type = 'club' GROUP BY context_id`;
    const index = new Map(clubIds.map((c, i) => [c, i]));
    return new Map(rows.map((r) => [index.get(r.id) ?? -1, r.n]));
  } finally {
    await sql.end({ timeout: 5 });
  }
}
