import { Worker } from 'node:worker_threads';
import { connectNats, type NatsConnection } from '@crowncast/bus';
import { liveRoomSubject, type Room } from '@crowncast/protocol';
import { cleanup, isolation, serviceUrls } from '@crowncast/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../src/fanout/hub.js';
import { createEdgeMetrics } from '../src/plugins/metrics.js';
import { FrameSink, framePayload, streamHead } from './helpers.js';

const iso = isolation();
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connectNats(serviceUrls.nats, 'edge-hub-test');
});

afterAll(async () => {
  await nc?.close();
  await cleanup(iso);
});

/**
 * A member whose write costs what a kernel write to a real socket costs (busy for `costMs`), so a
 * broadcast to the room takes far longer than the batching window, as it does with 10,000 sockets.
 */
class SlowConn extends FrameSink {
  readonly frames: Buffer[] = [];
  constructor(
    id: string,
    private readonly costMs: number,
  ) {
    super(id);
  }
  writeFrame(frame: Buffer): boolean {
    const until = performance.now() + this.costMs;
    while (performance.now() < until) {
      // busy, like a write syscall
    }
    this.frames.push(frame);
    return true;
  }
}

/** The room events a frame carries: a `batch` frame counts its events. */
function seqsOf(frame: Buffer): number[] {
  const v = framePayload<{ type: string; seq: number; events?: { seq: number }[] }>(frame);
  return v.type === 'batch' ? (v.events ?? []).map((e) => e.seq) : [v.seq];
}

/**
 * Publishes `total` republished-style events to the room every `everyMs`, from a worker thread with
 * its own NATS connection: the hub's busy write loop must not hold the publisher back, as it does
 * not hold back a ledger in another process.
 */
function publishFromWorker(room: Room, total: number, everyMs: number): Promise<void> {
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    (async () => {
      const { connect, headers } = await import(workerData.lib);
      const nc = await connect({ servers: workerData.url });
      for (let seq = 1; seq <= workerData.total; seq++) {
        const h = headers();
        h.set('Nats-Sequence', String(seq));
        h.set('Nats-Last-Sequence', String(seq - 1));
        const env = { type: 'game:move', id: 'e' + seq, ts: new Date().toISOString(), data: { n: seq } };
        nc.publish(workerData.subject, JSON.stringify(env), { headers: h });
        await nc.flush();
        await new Promise((r) => setTimeout(r, workerData.everyMs));
      }
      await nc.close();
      parentPort.postMessage('done');
    })();
  `;
  const w = new Worker(code, {
    eval: true,
    workerData: {
      lib: import.meta.resolve('@nats-io/transport-node'),
      url: serviceUrls.nats,
      subject: liveRoomSubject(room, iso.prefix),
      total,
      everyMs,
    },
  });
  return new Promise((resolve, reject) => {
    w.once('message', () => resolve());
    w.once('error', reject);
  });
}

describe('hub coalescing', () => {
  it('coalesces events that arrive while a long broadcast is written; every member gets each once, in order', async () => {
    const metrics = createEdgeMetrics();
    const hub: Hub = createHub({
      nc,
      prefix: iso.prefix,
      metrics,
      batchWindowMs: 10,
      batchMaxEvents: 100,
      onDelivered: () => undefined,
      onError: (err) => {
        throw err;
      },
      readHead: await streamHead(nc, iso),
    });
    const room: Room = 'global';
    // 200 members × 0.15 ms = a 30 ms broadcast, three times the 10 ms window.
    const members = Array.from({ length: 200 }, (_, i) => new SlowConn(`c${i}`, 0.15));
    for (const m of members) await hub.add(m, room);

    const total = 60;
    // Spaced wider than the window, so only a broadcast that outlasts it lets them pile up.
    await publishFromWorker(room, total, 12);
    const deadline = Date.now() + 10_000;
    const received = () => (members[0] as SlowConn).frames.flatMap(seqsOf).length;
    while (received() < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    hub.close();

    const first = members[0] as SlowConn;
    const expected = Array.from({ length: total }, (_, i) => i + 1);
    expect(first.frames.flatMap(seqsOf)).toEqual(expected);
    // Batching engaged: fewer frames than events.
    expect(total / first.frames.length).toBeGreaterThan(1.5);
    for (const m of members) {
      // Same frames, same bytes (built once), for every member.
      expect(m.frames.length).toBe(first.frames.length);
      expect(m.frames.every((f, i) => f === first.frames[i])).toBe(true);
    }
  });
});
