import { printTable, writeResult } from '../lib/report.js';
import { runNatsFuzz } from './nats-fuzz.js';
import { runRestFuzz } from './rest-fuzz.js';
import { runWsFuzz } from './ws-fuzz.js';

/**
 * `pnpm test:fuzz`: the long hostile-input run. REST (FUZZ_REST_PER_CLASS cases of each of the 11
 * classes), WebSocket (FUZZ_WS_SCALE × the CI sizes, slowloris held FUZZ_HOLD_MS so the edge's
 * own cut shows) and NATS (FUZZ_NATS_PER_KIND of each of 8 kinds). FUZZ_SEED reproduces a run.
 * Prints the table, writes bench/results/fuzz.json, exits 1 on any finding.
 */
const num = (name: string, def: number) => Number(process.env[name] ?? def);
const t0 = performance.now();
const rest = await runRestFuzz(num('FUZZ_REST_PER_CLASS', 300));
const ws = await runWsFuzz(num('FUZZ_WS_SCALE', 3), undefined, undefined, num('FUZZ_HOLD_MS', 10_000));
const nats = await runNatsFuzz(num('FUZZ_NATS_PER_KIND', 200));
const rows = [...rest, ...ws.rows, ...nats.rows];
const findings = rows.flatMap((r) => r.undocumented.map((u) => `${r.class}: ${JSON.stringify(u)}`));

printTable(
  `fuzz (seed ${process.env.FUZZ_SEED ?? 1}, ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  rows.map((r) => ({ ...r, outcomes: outcomeText(r.outcomes) })),
  ['class', 'cases', 'outcomes', 'status_5xx', 'crowns_moved'],
);
console.log('edge under WebSocket abuse:', JSON.stringify(ws.figures));
console.log('members under NATS abuse:', JSON.stringify(nats.figures));
const file = writeResult('fuzz', {
  rows: rows.map((r) => ({
    class: r.class,
    cases: r.cases,
    status_5xx: r.status_5xx,
    crowns_moved: r.crowns_moved,
    outcomes: r.outcomes,
  })),
  ws_edge: ws.figures,
  nats_members: nats.figures,
});
for (const f of findings) console.log(`FINDING ${f}`);
console.log(`wrote ${file}`);
const broken = findings.length > 0 || rows.some((r) => r.status_5xx > 0 || r.crowns_moved !== 0);
process.exit(broken ? 1 : 0);

function outcomeText(o: Record<string, number>): string {
  return Object.entries(o)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}
