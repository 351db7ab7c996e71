import { printTable, writeResult } from '../../tests/lib/report.js';
import { runSoak } from './soak.js';

/**
 * `pnpm soak`: SOAK_SECONDS (default 600) of steady club gifts (SOAK_RATE/s, default 30) over
 * SOAK_CLUBS × SOAK_PER_CLUB members (40 × 10) on two edges, SOAK_CHURN sockets closed per second
 * (default 4; each comes back and resumes). Prints one row per window and the drift between the
 * first and the last window; writes bench/results/soak.json; exits 1 if a promise broke or a
 * subscription leaked.
 */
const num = (name: string, def: number) => Number(process.env[name] ?? def);
const seconds = num('SOAK_SECONDS', 600);
const r = await runSoak({
  seconds,
  windows: num('SOAK_WINDOWS', Math.max(2, Math.min(20, Math.round(seconds / 30)))),
  clubs: num('SOAK_CLUBS', 40),
  perClub: num('SOAK_PER_CLUB', 10),
  ratePerSec: num('SOAK_RATE', 30),
  churnPerSec: num('SOAK_CHURN', 4),
  ...(process.env.SOAK_TOMBSTONE_MS ? { presenceEnv: { TOMBSTONE_MS: process.env.SOAK_TOMBSTONE_MS } } : {}),
  log: (l) => console.error(l),
});
const flat = (w: (typeof r.windows)[number]) => ({
  ...w,
  rss_mb: Object.values(w.rss_mb).join(' / '),
  eld_p99_ms: Object.values(w.eld_p99_ms).join(' / '),
});
const names = Object.keys(r.windows[0]?.rss_mb ?? {}).join(' / ');
printTable(`soak ${seconds} s (services: ${names})`, r.windows.map(flat), [
  't_s',
  'gifts',
  'delivery_p99_ms',
  'rss_mb',
  'eld_p99_ms',
  'edge_connections',
  'edge_rooms',
  'redis_keys',
  'reconnects',
]);
const first = r.windows[0];
const last = r.windows.at(-1);
const drift = {
  rss_growth_mb: Object.fromEntries(
    Object.keys(first?.rss_mb ?? {}).map((k) => [
      k,
      Math.round(((last?.rss_mb[k] ?? 0) - (first?.rss_mb[k] ?? 0)) * 10) / 10,
    ]),
  ),
  delivery_p99_first_last_ms: [first?.delivery_p99_ms, last?.delivery_p99_ms],
  redis_keys_first_last: [first?.redis_keys, last?.redis_keys],
  edge_after_members_left: r.after,
  edge_idle: r.idle,
};
console.log('drift:', JSON.stringify(drift));
console.log(
  'verdict:',
  JSON.stringify({
    gifts: r.verdict.giftsSent,
    committed: r.verdict.committed,
    events_expected: r.verdict.eventsExpected,
    events_delivered: r.verdict.eventsDelivered,
    events_duplicated: r.verdict.eventsDuplicated,
    gaps_resumed: r.verdict.gaps,
  }),
);
const leaked = r.after.rooms !== r.idle.rooms || r.after.connections !== r.idle.connections;
for (const p of r.problems) console.log(`FAILED ${p}`);
for (const d of r.duplicates) console.log('duplicate:', JSON.stringify(d));
if (leaked) console.log(`FAILED edges hold ${JSON.stringify(r.after)} after every member left`);
console.log(`wrote ${writeResult('soak', { seconds, windows: r.windows, drift, problems: r.problems })}`);
process.exit(r.problems.length || leaked ? 1 : 0);
