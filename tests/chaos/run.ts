import { type ChaosRow, FAULTS, type Fault, runChaos } from '../lib/faults.js';
import { printTable, writeResult } from '../lib/report.js';

/**
 * `pnpm test:chaos`: every fault in turn under load, hundreds of members in dozens of rooms.
 * Restarts the machine's shared NATS, Redis and PostgreSQL (each is started again at once).
 * CHAOS_FAULTS="edge SIGTERM,ledger SIGKILL" picks a subset; CHAOS_CLUBS / CHAOS_PER_CLUB /
 * CHAOS_RATE / CHAOS_PHASE_MS size it. Exits 1 if any promise broke.
 */
const num = (name: string, def: number) => Number(process.env[name] ?? def);
const names = process.env.CHAOS_FAULTS?.split(',').map((s) => s.trim()) ?? Object.keys(FAULTS);
const faults = names.map((n) => {
  const f = FAULTS[n];
  if (!f) throw new Error(`unknown fault "${n}"; known: ${Object.keys(FAULTS).join(', ')}`);
  return f;
}) as Fault[];

const phase = num('CHAOS_PHASE_MS', 4000);
const { rows, setupS } = await runChaos({
  clubs: num('CHAOS_CLUBS', 30),
  perClub: num('CHAOS_PER_CLUB', 10),
  edges: 2,
  ratePerSec: num('CHAOS_RATE', 50),
  beforeMs: phase,
  afterMs: phase,
  faults,
  log: (l) => console.error(l),
});
printTable(`chaos (setup ${setupS.toFixed(1)} s)`, rows as unknown as Record<string, unknown>[], [
  'fault',
  'gifts_sent',
  'committed',
  'events_expected',
  'events_delivered',
  'events_duplicated',
  'recovery_s',
  'gaps_resumed',
  'statuses',
]);
const broken = rows.filter((r: ChaosRow) => r.violations.length);
for (const r of broken) console.log(`FAILED ${r.fault}: ${r.violations.join('; ')}`);
console.log(`wrote ${writeResult('chaos', { rows })}`);
process.exit(broken.length ? 1 : 0);
