import { loadavg } from 'node:os';
import { ClientPool } from './client-pool.js';
import { readConfig, WORKLOADS, type Workload } from './config.js';
import { ensureFdLimit } from './fd-limit.js';
import { sleep } from './publisher.js';
import { emptyResults, type FanoutResults, medianResults, printTable, writeResults } from './report.js';
import { round } from './stats.js';
import { startCrowncast } from './targets/crowncast.js';
import { startRawWs } from './targets/raw-ws.js';
import { startSocketIo } from './targets/socketio.js';
import type { Target, TargetName } from './targets/target.js';
import { bigRoom, type Ctx, closeAndSettle, connectStorm, manyRooms, saturation } from './workloads.js';

/**
 * pnpm bench:fanout — the same four workloads against the Crowncast edge (fed through NATS), a raw
 * ws broadcast server and Socket.IO with the Redis adapter, one after the other in one run; with
 * BENCH_ROUNDS=n, n rounds of all of them in turn, and each figure the median of its rounds.
 */

/**
 * Round r runs the targets rotated by r - 1 (raw, sio, cc; then sio, cc, raw; …), so over three
 * rounds each server runs once first, once second and once last. In a fixed order the same server
 * always ran last, right after Socket.IO's heavy run, and whatever a position does to the figures
 * stayed in the medians.
 */
function roundOrder<T>(targets: readonly T[], round: number): T[] {
  const k = (round - 1) % Math.max(1, targets.length);
  return [...targets.slice(k), ...targets.slice(0, k)];
}
const cfg = readConfig();
ensureFdLimit(cfg.connections + 2_048);

const starters: Record<TargetName, () => Promise<Target>> = {
  raw_ws: startRawWs,
  socketio: startSocketIo,
  crowncast: startCrowncast,
};
const log = (line: string) => console.log(line);
const details: Record<string, unknown> = { config: cfg, started: new Date().toISOString() };

// Hard stop: the run ends by itself even if a server hangs.
const budgetMs = cfg.rounds * cfg.targets.length * (cfg.seconds * 8_000 + 240_000);
const watchdog = setTimeout(() => {
  console.error(`fan-out benchmark exceeded its ${Math.round(budgetMs / 1000)} s budget, stopping`);
  process.exit(2);
}, budgetMs);

async function runTarget(
  name: TargetName,
  results: FanoutResults,
  details: Record<string, unknown>,
): Promise<void> {
  log(
    `\n== ${name} (load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})`,
  );
  const target = await starters[name]();
  const pool = await ClientPool.start(cfg.clientProcs);
  const ctx: Ctx = { cfg, pool, target, log };
  // The machine is shared: the load average tells how much else was running.
  const d: Record<string, unknown> = { load_average_at_start: loadavg().map((l) => round(l, 2)) };
  details[name] = d;
  try {
    await target.prepare(cfg.connections, cfg.manyRooms);
    await sleep(cfg.idleSeconds * 1000);
    const run = (w: Workload) => cfg.workloads.includes(w);
    if (run('big_room')) {
      log('big room');
      const big = await bigRoom(ctx);
      const { delivered_ratio, rss_idle_mb, rss_connected_mb, bus, cpu, young_mb, ...bigFigures } =
        big.result;
      results.big_room[name] = bigFigures;
      d.big_room = big.result;
      log(`  ${JSON.stringify(big.result)}`);
      if (run('saturation')) {
        log('saturation');
        const sat = await saturation(ctx, big.connected);
        results.saturation_events_per_s[name] = sat.best;
        d.saturation = sat;
      }
      d.big_room_teardown_s = await closeAndSettle(ctx);
    }
    if (run('many_rooms')) {
      log('many rooms');
      const many = await manyRooms(ctx);
      const { delivered_ratio: manyRatio, bus: manyBus, cpu: manyCpu, ...manyFigures } = many;
      results.many_rooms[name] = manyFigures;
      d.many_rooms = many;
      log(`  ${JSON.stringify(many)}`);
      d.many_rooms_teardown_s = await closeAndSettle(ctx);
    }
    if (run('connect_storm')) {
      log('connect storm');
      const storm = await connectStorm(ctx);
      const { reasons, ...stormFigures } = storm;
      results.connect_storm[name] = stormFigures;
      d.connect_storm = storm;
      log(`  ${JSON.stringify(storm)}`);
      await pool.closeAll();
    }
  } finally {
    pool.stop();
    await target.stop();
  }
}

let failed = false;
const rounds: FanoutResults[] = [];
for (let r = 1; r <= cfg.rounds; r++) {
  if (cfg.rounds > 1) log(`\n#### round ${r} of ${cfg.rounds}`);
  const results = emptyResults(cfg.connections);
  const order = roundOrder(cfg.targets, r);
  const roundDetails: Record<string, unknown> = { order };
  for (const name of order) {
    try {
      await runTarget(name, results, roundDetails);
    } catch (err) {
      failed = true;
      console.error(`${name} failed: ${(err as Error).stack ?? err}`);
      roundDetails[`${name}_error`] = String(err);
    }
  }
  rounds.push(results);
  if (cfg.rounds > 1) {
    printTable(results, `round ${r}`);
    details[`round_${r}`] = { results, ...roundDetails };
  } else Object.assign(details, roundDetails);
}
const results = cfg.rounds > 1 ? medianResults(rounds) : (rounds[0] as FanoutResults);
details.finished = new Date().toISOString();
printTable(results, cfg.rounds > 1 ? `median of ${cfg.rounds} rounds` : '');
log(`\nwrote ${writeResults(results, details, cfg.workloads.length < WORKLOADS.length)}`);
clearTimeout(watchdog);
process.exit(failed ? 1 : 0);
