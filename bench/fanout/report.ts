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
  big_room: PerTarget<
    Percentiles & { rss_per_conn_kb: number; rss_without_young_kb: number; rss_marginal_kb: number }
  >;
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Each figure of each target: its median over the rounds that have it (null if none has). */
function medianOf<T extends object>(values: (T | null)[]): T | null {
  const have = values.filter((v): v is T => v !== null);
  const first = have[0];
  if (!first) return null;
  const out: Record<string, number> = {};
  for (const k of Object.keys(first)) {
    out[k] = Math.round(median(have.map((v) => (v as Record<string, number>)[k] as number)) * 100) / 100;
  }
  return out as T;
}

/** The figures of several rounds (BENCH_ROUNDS) as one result: every number the median of its rounds. */
export function medianResults(rounds: FanoutResults[]): FanoutResults {
  const r = emptyResults(rounds[0]?.connections ?? 0);
  for (const t of TARGETS) {
    r.big_room[t] = medianOf(rounds.map((x) => x.big_room[t]));
    r.many_rooms[t] = medianOf(rounds.map((x) => x.many_rooms[t]));
    r.connect_storm[t] = medianOf(rounds.map((x) => x.connect_storm[t]));
    const sat = rounds.map((x) => x.saturation_events_per_s[t]).filter((v): v is number => v !== null);
    r.saturation_events_per_s[t] = sat.length ? median(sat) : null;
  }
  return r;
}

const cell = (v: unknown) => (v === null || v === undefined ? '-' : String(v));

export function printTable(r: FanoutResults, title = ''): void {
  const rows: [string, (t: TargetName) => unknown][] = [
    ['big room p50 ms', (t) => r.big_room[t]?.p50_ms],
    ['big room p95 ms', (t) => r.big_room[t]?.p95_ms],
    ['big room p99 ms', (t) => r.big_room[t]?.p99_ms],
    ['RSS per connection KB', (t) => r.big_room[t]?.rss_per_conn_kb],
    ['  without young gen KB', (t) => r.big_room[t]?.rss_without_young_kb],
    ['  per further conn KB', (t) => r.big_room[t]?.rss_marginal_kb],
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
  console.log(`\nfan-out, ${r.connections} connections${title ? `, ${title}` : ''}`);
  console.log(line(['', ...TARGETS]));
  for (const [label, get] of rows) console.log(line([label, ...TARGETS.map((t) => cell(get(t)))]));
}

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
