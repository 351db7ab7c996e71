import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveRoomSubject, roomSubject } from '@crowncast/protocol';
import { cleanup, isolation, type RunningService, serviceEnv, spawnService } from '@crowncast/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { imageLayout } from '../../../deploy/scripts/bundle.js';
import { imageNodeArgs } from '../../../deploy/scripts/dockerfile.js';
import { giftEvent, marker, nowMs, PHASES, scanFrame } from '../event.js';
import { seedMembers } from './ledger-admin.js';
import type { RoomRef, Target } from './target.js';

/**
 * Crowncast on its real path: the ledger (membership answers, the ROOMS stream with RePublish) and
 * one edge process. Events are valid RoomEvent envelopes published with core NATS into the room
 * subjects; JetStream stores them and republishes them on live.room.>, where the edge picks them up.
 * The big room is `global` (every socket is in it on connect, as the reference servers put every
 * socket in their big room on connect); the many rooms are clubs joined with club:join.
 * The edge runs as its image runs it (deploy/scripts/bundle.ts imageLayout: production node_modules
 * and the esbuild bundle, on plain node with the node flags of the image's CMD), not from the sources
 * through tsx, whose keepNames makes every named closure the edge creates ~250 bytes bigger.
 */
export async function startCrowncast(): Promise<Target> {
  const iso = isolation();
  const running: RunningService[] = [];
  let nc: NatsConnection | undefined;
  const image = await mkdtemp(join(tmpdir(), 'crowncast-bench-edge-'));
  const stop = async () => {
    await nc?.drain().catch(() => undefined);
    for (const s of running.reverse()) await s.stop();
    await cleanup(iso);
    await rm(image, { recursive: true, force: true });
  };
  try {
    running.push(await spawnService('services/ledger/src/server.ts', serviceEnv(iso)));
    const ledger = running[0]!;
    const edge = await spawnService(
      await imageLayout('edge', image),
      serviceEnv(iso, {
        LOG_LEVEL: process.env.BENCH_EDGE_LOG_LEVEL ?? 'info',
        WS_MAX_ROOMS_PER_CONNECTION: '100',
        ...edgeOverrides(),
      }),
      undefined,
      { nodeArgs: await imageNodeArgs('edge') },
    );
    running.push(edge);
    console.log(`  ledger pid ${ledger.proc.pid}, edge pid ${edge.proc.pid} at ${edge.url}`);
    nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: 'bench-fanout' });
    const conn = nc;
    let seq = 0;
    // Watches the republished copies too, to tell the JetStream hop apart from the edge's own time.
    let hop: number[] = [];
    const hopCounts = new Float64Array(PHASES);
    conn.subscribe(liveRoomSubject('global', iso.prefix).replace(/global$/, '>'), {
      callback: (_err, m) => {
        const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
        scanFrame(data, hopCounts, (_p, ms) => hop.length < 200_000 && hop.push(ms), nowMs());
      },
    });
    const userPrefix = 'u';
    const clubPrefix = 'c';
    return {
      name: 'crowncast',
      kind: 'cc',
      url: `${edge.url.replace(/^http/, 'ws')}/ws`,
      pid: edge.proc.pid!,
      youngKb: () => youngKbFromMetrics(edge.url),
      roomPrefix: clubPrefix,
      userPrefix,
      async prepare(connections: number, rooms: number) {
        const r = await seedMembers(ledger.url, { users: connections, clubs: rooms, userPrefix, clubPrefix });
        console.log(`  ledger admin API: ${r.requests} requests in ${r.seconds.toFixed(1)} s`);
      },
      publish(to: RoomRef, phase: number) {
        const clubId = to.big ? 'global' : `${clubPrefix}${to.index}`;
        const subject = roomSubject(to.big ? 'global' : `club:${clubId}`, iso.prefix);
        conn.publish(
          subject,
          JSON.stringify(giftEvent(`bench-${iso.id}-${++seq}`, clubId, marker(phase, nowMs()))),
        );
      },
      busLatencies() {
        const out = hop;
        hop = [];
        return out;
      },
      flush: () => conn.flush(),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The edge's V8 young generation (KB), from prom-client's default metrics on its /metrics. */
async function youngKbFromMetrics(edgeUrl: string): Promise<number> {
  const text = await (await fetch(`${edgeUrl}/metrics`)).text();
  const re = /^crowncast_edge_nodejs_heap_space_size_total_bytes\{space="(new|new_large_object)"\} (\d+)/gm;
  let bytes = 0;
  let found = false;
  for (const m of text.matchAll(re)) {
    bytes += Number(m[2]);
    found = true;
  }
  if (!found) throw new Error('the edge /metrics has no heap space sizes');
  return Math.round(bytes / 1024);
}

/** BENCH_EDGE_<VAR>=value passes <VAR>=value to the edge (e.g. BENCH_EDGE_BATCH_WINDOW_MS=0). */
function edgeOverrides(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('BENCH_EDGE_') && k !== 'BENCH_EDGE_LOG_LEVEL' && v !== undefined) out[k.slice(11)] = v;
  }
  return out;
}
