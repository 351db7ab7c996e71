/** Knobs of the fan-out benchmark, read once from the environment. */

function intEnv(name: string, def: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new Error(`${name} must be a number between ${min} and ${max}, got "${raw}"`);
  }
  return Math.floor(n);
}

export interface BenchConfig {
  /** Sockets per workload (BENCH_CONNECTIONS). */
  connections: number;
  /** Measured seconds of the big-room and many-rooms workloads (BENCH_SECONDS). */
  seconds: number;
  /** Client processes the sockets are spread over (BENCH_CLIENT_PROCS, at least 2). */
  clientProcs: number;
  /** One socket in this many records latency (BENCH_SAMPLE_EVERY). */
  sampleEvery: number;
  bigRoomRate: number;
  manyRooms: number;
  manyRoomsRate: number;
  stormRate: number;
  /** A saturation step "keeps up" only while its p99 stays under this (BENCH_SAT_P99_MS). */
  saturationP99Ms: number;
  /** Which servers to measure, comma-separated (BENCH_TARGETS=raw_ws,socketio,crowncast). */
  targets: TargetName[];
  /** Which workloads to run, comma-separated (BENCH_WORKLOADS; saturation needs big_room). */
  workloads: Workload[];
  /**
   * Rounds of every target in turn (BENCH_ROUNDS): the figures written are each one's median over
   * the rounds, so one busy minute of a shared machine does not decide a target.
   */
  rounds: number;
  /**
   * Seconds every server idles after its setup before its idle RSS is read (BENCH_IDLE_SECONDS), the
   * same for all: V8 shrinks an idle process's young generation after some seconds, and a server
   * read sooner would start its growth from a higher floor.
   */
  idleSeconds: number;
}

export const TARGETS = ['raw_ws', 'socketio', 'crowncast'] as const;
export type TargetName = (typeof TARGETS)[number];
export const WORKLOADS = ['big_room', 'saturation', 'many_rooms', 'connect_storm'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** Saturation raises the big room's rate, so it runs on the big room's sockets. */
function withBigRoom(w: Workload[]): Workload[] {
  return w.includes('saturation') && !w.includes('big_room') ? ['big_room', ...w] : w;
}

function listEnv<T extends string>(name: string, all: readonly T[], def: readonly T[]): T[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return [...def];
  const picked = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of picked) {
    if (!all.includes(p as T)) throw new Error(`${name}: unknown "${p}"; known: ${all.join(', ')}`);
  }
  return picked as T[];
}

export function readConfig(): BenchConfig {
  const connections = intEnv('BENCH_CONNECTIONS', 10_000, 20, 18_000);
  return Object.freeze({
    connections,
    seconds: intEnv('BENCH_SECONDS', 20, 1, 600),
    clientProcs: intEnv('BENCH_CLIENT_PROCS', 2, 2, 8),
    sampleEvery: intEnv('BENCH_SAMPLE_EVERY', 10, 1, 1000),
    bigRoomRate: intEnv('BENCH_BIG_ROOM_RATE', 5, 1, 1000),
    manyRooms: Math.min(intEnv('BENCH_ROOMS', 500, 1, 10_000), connections),
    manyRoomsRate: intEnv('BENCH_MANY_ROOMS_RATE', 1000, 1, 100_000),
    stormRate: intEnv('BENCH_STORM_RATE', 5, 1, 1000),
    saturationP99Ms: intEnv('BENCH_SAT_P99_MS', 500, 10, 60_000),
    targets: listEnv('BENCH_TARGETS', TARGETS, TARGETS),
    workloads: withBigRoom(listEnv('BENCH_WORKLOADS', WORKLOADS, WORKLOADS)),
    rounds: intEnv('BENCH_ROUNDS', 1, 1, 9),
    idleSeconds: intEnv('BENCH_IDLE_SECONDS', 20, 0, 300),
  });
}
