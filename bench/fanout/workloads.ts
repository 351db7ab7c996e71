import type { ClientPool } from './client-pool.js';
import type { BenchConfig } from './config.js';
import { PHASES } from './event.js';
import type { ConnectSpec, PhaseStats } from './ipc.js';
import { publishAtRate, sleep } from './publisher.js';
import { cpuMs, rssKb } from './servers/fork-server.js';
import { type Percentiles, percentiles, round } from './stats.js';
import type { RoomRef, Target } from './targets/target.js';

const BIG: RoomRef = { big: true };
// Setup connects are paced below what a busy server's accept queue (backlog 511) absorbs.
const SETUP_CONNECTS_PER_S = 1_000;

export interface Ctx {
  cfg: BenchConfig;
  pool: ClientPool;
  target: Target;
  log: (line: string) => void;
}

/** Settling, warm-up and drain waits: 2 s in a full run, shorter in a quick check. */
function settleMs(cfg: BenchConfig): number {
  return Math.min(2_000, Math.max(500, cfg.seconds * 250));
}

let phaseCounter = 0;
/** A fresh phase letter for each measurement window, so late frames of one never count in another. */
function nextPhase(): number {
  phaseCounter = (phaseCounter + 1) % PHASES;
  return phaseCounter;
}

function spec(ctx: Ctx, rooms: number, spreadMs: number): Omit<ConnectSpec, 'from' | 'count'> {
  return {
    kind: ctx.target.kind,
    url: ctx.target.url,
    spreadMs,
    timeoutMs: 30_000,
    retries: 3,
    rooms,
    roomPrefix: ctx.target.roomPrefix,
    userPrefix: ctx.target.userPrefix,
    sampleEvery: ctx.cfg.sampleEvery,
  };
}

/** Opens `n` sockets (client numbers from `offset`) at the setup pace; fails if 1% did not get in. */
async function connectForWorkload(
  ctx: Ctx,
  rooms: number,
  n = ctx.cfg.connections,
  offset = 0,
): Promise<number> {
  const r = await ctx.pool.connect(n, spec(ctx, rooms, (n / SETUP_CONNECTS_PER_S) * 1000), offset);
  ctx.log(`  ${r.connected}/${n} sockets in ${round(r.elapsedMs / 1000, 2)} s ${JSON.stringify(r.reasons)}`);
  if (r.connected < n * 0.99) throw new Error(`only ${r.connected} of ${n} sockets got in`);
  return r.connected;
}

/** One window at a fixed rate: publish, let it drain, then take the phase's counts and samples. */
async function measure(
  ctx: Ctx,
  rate: number,
  durationMs: number,
  pick: (k: number) => RoomRef,
  drainMs = settleMs(ctx.cfg),
): Promise<{ published: number; stats: PhaseStats; bus: Percentiles | null; cpu: CpuShare }> {
  const phase = nextPhase();
  ctx.target.busLatencies?.();
  await ctx.pool.stats(phase);
  const cpu0 = cpuMs(ctx.target.pid);
  const t0 = performance.now();
  const published = await publishAtRate(ctx.target, rate, durationMs, phase, pick);
  await sleep(drainMs);
  const wall = performance.now() - t0;
  const serverCpu = cpuMs(ctx.target.pid) - cpu0;
  const bus = ctx.target.busLatencies ? percentiles(ctx.target.busLatencies()) : null;
  const stats = await ctx.pool.stats(phase);
  // Shares of one core over the window (publishing + drain): 1.0 = one core busy the whole time.
  const cpu = { server: round(serverCpu / wall, 2), clients: round(stats.cpuMs / wall, 2) };
  return { published, stats, bus, cpu };
}

export interface CpuShare {
  server: number;
  clients: number;
}

async function warmUp(ctx: Ctx, rate: number, pick: (k: number) => RoomRef): Promise<void> {
  await measure(ctx, rate, settleMs(ctx.cfg), pick, 500);
}

export interface BigRoomResult extends Percentiles {
  /** RSS growth from idle to every socket in, per socket (the issue's figure). */
  rss_per_conn_kb: number;
  /**
   * The same without the growth of V8's young generation (its size read from the server before and
   * after): a fixed cost V8 sizes by allocation rate, not by connections, up to ~32 MB. Whether the
   * idle server had shrunk it moves rss_per_conn_kb by up to ~3 KB at 10,000 sockets.
   */
  rss_without_young_kb: number;
  /** RSS growth per socket from a quarter of the sockets in to all of them, young generation excluded. */
  rss_marginal_kb: number;
  /** The young generation's size, MB: idle, a quarter in, all in. */
  young_mb: number[];
  delivered_ratio: number;
  rss_idle_mb: number;
  rss_connected_mb: number;
  /** Publish to the republished copy on NATS (Crowncast only): the part of the latency before the edge. */
  bus: Percentiles | null;
  cpu: CpuShare;
}

export async function bigRoom(ctx: Ctx): Promise<{ result: BigRoomResult; connected: number }> {
  const { cfg, target } = ctx;
  const rss0 = rssKb(target.pid);
  const young0 = await target.youngKb();
  // In two steps, a quarter then the rest, for the growth per further connection.
  const first = Math.round(cfg.connections / 4);
  const early = await connectForWorkload(ctx, 0, first);
  await sleep(settleMs(cfg));
  const rssQuarter = rssKb(target.pid);
  const youngQuarter = await target.youngKb();
  const later = await connectForWorkload(ctx, 0, cfg.connections - first, first);
  const connected = early + later;
  await sleep(settleMs(cfg));
  const rss1 = rssKb(target.pid);
  const young1 = await target.youngKb();
  await warmUp(ctx, cfg.bigRoomRate, () => BIG);
  const { published, stats, bus, cpu } = await measure(ctx, cfg.bigRoomRate, cfg.seconds * 1000, () => BIG);
  return {
    connected,
    result: {
      ...percentiles(stats.latencies),
      rss_per_conn_kb: round((rss1 - rss0) / connected, 2),
      rss_without_young_kb: round((rss1 - rss0 - (young1 - young0)) / connected, 2),
      rss_marginal_kb: round((rss1 - rssQuarter - (young1 - youngQuarter)) / later, 2),
      young_mb: [young0, youngQuarter, young1].map((kb) => round(kb / 1024, 1)),
      delivered_ratio: round(stats.delivered / (published * connected), 4),
      rss_idle_mb: round(rss0 / 1024),
      rss_connected_mb: round(rss1 / 1024),
      bus,
      cpu,
    },
  };
}

export interface Step {
  rate: number;
  delivered_per_s: number;
  p99_ms: number;
  ok: boolean;
  events_per_frame: number;
  cpu: CpuShare;
  bus_p99_ms?: number;
}

/**
 * Raises the big room's rate (doubling from the big-room rate, then bisecting) until a step falls behind: not every event
 * reached every socket within 1 s after the step, or p99 went over the bound, or a socket was lost.
 * The figure is the events/s delivered to every socket in the best step that kept up.
 */
export async function saturation(ctx: Ctx, connected: number): Promise<{ best: number; steps: Step[] }> {
  const { cfg } = ctx;
  const stepMs = Math.min(5_000, Math.max(1_500, (cfg.seconds * 1000) / 2));
  const steps: Step[] = [];
  let lostSockets = false;
  const run = async (rate: number): Promise<Step> => {
    const { published, stats, bus, cpu } = await measure(ctx, rate, stepMs, () => BIG, 1_000);
    const p99 = percentiles(stats.latencies).p99_ms;
    const busP99 = bus ? bus.p99_ms : null;
    const ok =
      stats.lost === 0 && stats.delivered >= published * connected * 0.999 && p99 <= cfg.saturationP99Ms;
    const step = {
      rate,
      delivered_per_s: round(stats.delivered / connected / (stepMs / 1000)),
      p99_ms: p99,
      ok,
      events_per_frame: round(stats.delivered / Math.max(1, stats.frames), 2),
      cpu,
      ...(busP99 === null ? {} : { bus_p99_ms: busP99 }),
    };
    ctx.log(`  saturation ${JSON.stringify(step)}${stats.lost ? ` lost=${stats.lost}` : ''}`);
    steps.push(step);
    lostSockets ||= stats.lost > 0;
    if (!ok) await drain(ctx);
    return step;
  };
  let good = 0;
  let bad = 0;
  for (let rate = cfg.bigRoomRate; rate <= 5_000; rate *= 2) {
    const s = await run(rate);
    if (!s.ok) {
      bad = rate;
      break;
    }
    good = rate;
  }
  // A server that cannot hold even the starting rate is searched downwards (halving, at least 1/s).
  for (
    let rate = Math.floor(cfg.bigRoomRate / 2);
    !good && !lostSockets && rate >= 1;
    rate = Math.floor(rate / 2)
  ) {
    if ((await run(rate)).ok) good = rate;
    else bad = rate;
  }
  // Two bisections (one in a quick check) narrow the limit to a quarter of the last doubling; a server that dropped sockets
  // has fewer left, so its later steps would not be comparable.
  for (let i = 0; i < (cfg.seconds >= 10 ? 2 : 1) && bad && good && !lostSockets; i++) {
    const mid = Math.round((good + bad) / 2);
    if (mid === good || mid === bad) break;
    if ((await run(mid)).ok) good = mid;
    else bad = mid;
  }
  const best = Math.max(0, ...steps.filter((s) => s.ok).map((s) => s.delivered_per_s));
  return { best, steps };
}

/** After a step that fell behind, waits (bounded) until the backlog has reached the clients. */
async function drain(ctx: Ctx): Promise<void> {
  for (let i = 0; i < 30; i++) {
    const s = await ctx.pool.stats(phaseCounter);
    if (s.delivered === 0) return;
    await sleep(500);
  }
}

export async function manyRooms(
  ctx: Ctx,
): Promise<Percentiles & { delivered_ratio: number; bus: Percentiles | null; cpu: CpuShare }> {
  const { cfg } = ctx;
  const connected = await connectForWorkload(ctx, cfg.manyRooms);
  const pick = (k: number): RoomRef => ({ big: false, index: k % cfg.manyRooms });
  await warmUp(ctx, cfg.manyRoomsRate, pick);
  const { published, stats, bus, cpu } = await measure(ctx, cfg.manyRoomsRate, cfg.seconds * 1000, pick);
  const perRoom = connected / cfg.manyRooms;
  return {
    ...percentiles(stats.latencies),
    delivered_ratio: round(stats.delivered / (published * perRoom), 4),
    bus,
    cpu,
  };
}

export interface StormResult {
  connected: number;
  refused: number;
  seconds: number;
  reasons: Record<string, number>;
}

/**
 * Closes every client socket and waits until the server has finished with them: its CPU use below
 * 10 % over the last second (at most 30 s). Tearing down 10,000 sockets costs a server seconds (the
 * edge leaves each socket's rooms, unsubscribes its private room, tells presence); a workload started
 * meanwhile, the connect storm above all, would measure the teardown too. Returns the seconds waited.
 */
export async function closeAndSettle(ctx: Ctx): Promise<number> {
  const started = performance.now();
  await ctx.pool.closeAll();
  const pid = ctx.target.pid;
  const window: number[] = [cpuMs(pid)];
  while (performance.now() - started < 30_000) {
    await sleep(250);
    window.push(cpuMs(pid));
    if (window.length > 5) window.shift();
    if (window.length === 5 && (window[4] as number) - (window[0] as number) < 100) break;
  }
  const waited = round((performance.now() - started) / 1000, 1);
  ctx.log(`  sockets closed, server quiet after ${waited} s`);
  return waited;
}

/** N clients open within a couple of seconds while the big room broadcasts. */
export async function connectStorm(ctx: Ctx, spreadMs = 2_000): Promise<StormResult> {
  const { cfg, target } = ctx;
  const stop = { stopped: false };
  const phase = nextPhase();
  const broadcasting = publishAtRate(target, cfg.stormRate, 120_000, phase, () => BIG, stop);
  try {
    const r = await ctx.pool.connect(cfg.connections, {
      ...spec(ctx, 0, spreadMs),
      timeoutMs: 20_000,
      retries: 0,
    });
    return {
      connected: r.connected,
      refused: r.refused,
      seconds: round(r.elapsedMs / 1000, 2),
      reasons: r.reasons,
    };
  } finally {
    stop.stopped = true;
    await broadcasting;
    await ctx.pool.stats(phase);
  }
}
