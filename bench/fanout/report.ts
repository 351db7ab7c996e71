import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@crowncast/testkit';
import type { Percentiles } from './stats.js';
import type { TargetName } from './targets/target.js';

export const TARGETS: TargetName[] = ['crowncast', 'raw_ws', 'socketio'];

type PerTarget<T> = Record<TargetName, T | null>;

/** The shape issue 3 asks for in bench/results/fanout.json. */
export interface FanoutResults {
  connections: number;
  big_room: PerTarget<Percentiles & { rss_per_conn_kb: number }>;
  many_rooms: PerTarget<Percentiles>;
  saturation_events_per_s: PerTarget<number>;
  connect_storm: PerTarget<{ connected: number; refused: number; seconds: number }>;
}

export function emptyResults(connections: number): FanoutResults {
  const none = <T>(): PerTarget<T> => ({ crowncast: null, raw_ws: null, socketio: null });
  return {
    connections,
    big_room: none(),
    many_rooms: none(),
    saturation_events_per_s: none(),
    connect_storm: none(),
  };
}

const cell = (v: unknown) => (v === null || v === undefined ? '-' : String(v));

export function printTable(r: FanoutResults): void {
  const rows: [string, (t: TargetName) => unknown][] = [
    ['big room p50 ms', (t) => r.big_room[t]?.p50_ms],
    ['big room p95 ms', (t) => r.big_room[t]?.p95_ms],
    ['big room p99 ms', (t) => r.big_room[t]?.p99_ms],
    ['RSS per connection KB', (t) => r.big_room[t]?.rss_per_conn_kb],
    ['many rooms p50 ms', (t) => r.many_rooms[t]?.p50_ms],
    ['many rooms p95 ms', (t) => r.many_rooms[t]?.p95_ms],
    ['many rooms p99 ms', (t) => r.many_rooms[t]?.p99_ms],
    ['saturation events/s', (t) => r.saturation_events_per_s[t]],
    ['storm connected', (t) => r.connect_storm[t]?.connected],
    ['storm refused', (t) => r.connect_storm[t]?.refused],
    ['storm seconds', (t) => r.connect_storm[t]?.seconds],
  ];
  const w = 24;
  const line = (cols: string[]) => cols.map((c, i) => (i === 0 ? c.padEnd(w) : c.padStart(12))).join('');
  console.log(`\nfan-out, ${r.connections} connections`);
  console.log(line(['', ...TARGETS]));
  for (const [label, get] of rows) console.log(line([label, ...TARGETS.map((t) => cell(get(t)))]));
}

/** Writes fanout.json (the shape) and fanout-details.json (steps, ratios, refusal reasons). */
/**
 * A full run writes fanout.json and fanout-details.json; a run of some workloads only
 * (BENCH_WORKLOADS) writes fanout-partial.json and fanout-partial-details.json, so it never
 * overwrites a full run's figures with empty ones.
 */
export function writeResults(r: FanoutResults, details: unknown, partial: boolean): string {
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const name = partial ? 'fanout-partial' : 'fanout';
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(join(dir, `${name}-details.json`), `${JSON.stringify(details, null, 2)}\n`);
  return file;
}
