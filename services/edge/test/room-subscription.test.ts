import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { connectNats, type NatsConnection } from '@crowncast/bus';
import { liveRoomSubject, type Room } from '@crowncast/protocol';
import { cleanup, isolation, serviceUrls } from '@crowncast/testkit';
import { headers } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHub } from '../src/fanout/hub.js';
import { createEdgeMetrics } from '../src/plugins/metrics.js';
import { FrameSink, framePayload, streamHead } from './helpers.js';

/**
 * The hub's rooms are their own NATS subscriptions (fanout/room-state.ts), registered with nats.js's
 * protocol handler instead of nats.js's subscription class. These drive what that handler does to
 * them on a real NATS server: resubscribe after a lost connection, unsubscribe, drain, close.
 */
const iso = isolation();
let direct: NatsConnection;

/** A TCP proxy in front of NATS whose connections the test can cut, as a network fault would. */
class CuttableProxy {
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  constructor(target: URL) {
    this.server = createServer((client) => {
      const upstream = tcpConnect(Number(target.port || 4222), target.hostname);
      for (const s of [client, upstream]) {
        this.open.add(s);
        s.on('close', () => this.open.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
  }
  listen(): Promise<number> {
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as { port: number }).port)),
    );
  }
  cut(): void {
    for (const s of this.open) s.destroy();
  }
  close(): void {
    this.cut();
    this.server.close();
  }
}

class Recorder extends FrameSink {
  readonly frames: { room: string; seq: number }[] = [];
  writeFrame(frame: Buffer): boolean {
    const v = framePayload<{ room: string; seq: number }>(frame);
    this.frames.push({ room: v.room, seq: v.seq });
    return true;
  }
}

/** Publishes one event as JetStream's RePublish would (its seq headers), on the room's live subject. */
async function publish(room: Room, seq: number) {
  const h = headers();
  h.set('Nats-Sequence', String(seq));
  h.set('Nats-Last-Sequence', String(seq - 1));
  const env = { type: 'game:move', id: `${room}-${seq}`, ts: new Date().toISOString(), data: { n: seq } };
  direct.publish(liveRoomSubject(room, iso.prefix), JSON.stringify(env), { headers: h });
  await direct.flush();
}

async function until(what: string, check: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  direct = await connectNats(serviceUrls.nats, 'edge-room-sub-test');
});

afterAll(async () => {
  await direct?.close();
  await cleanup(iso);
});

async function hubOver(nc: NatsConnection, errors: Error[] = []) {
  return createHub({
    nc,
    prefix: iso.prefix,
    metrics: createEdgeMetrics(),
    batchWindowMs: 0,
    batchMaxEvents: 100,
    onDelivered: () => undefined,
    onError: (err) => errors.push(err),
    readHead: await streamHead(nc, iso),
  });
}

describe('room subscriptions', () => {
  it('are subscribed again after the NATS connection is lost; a room left stays unsubscribed', async () => {
    const proxy = new CuttableProxy(new URL(serviceUrls.nats));
    const port = await proxy.listen();
    const nc = await connectNats(`nats://127.0.0.1:${port}`, 'edge-room-sub-proxied');
    try {
      const hub = await hubOver(nc);
      const a = new Recorder('a');
      const kept: Room = 'game:kept';
      const left: Room = 'game:left';
      await hub.add(a, kept);
      await hub.add(a, left);
      await publish(kept, 1);
      await publish(left, 1);
      await until('the first events', () => a.frames.length === 2);
      hub.remove(a, left);
      expect(hub.roomCount()).toBe(1);

      const reconnected = (async () => {
        for await (const s of nc.status()) if (s.type === 'reconnect') return;
      })();
      proxy.cut();
      await reconnected;
      await nc.flush();

      // Messages the server sends this connection: only those of rooms still subscribed.
      const before = nc.stats().inMsgs;
      await publish(left, 2);
      await publish(kept, 2);
      await publish(kept, 3);
      await until('the events after the reconnect', () => a.frames.some((f) => f.seq === 3));
      expect(nc.stats().inMsgs - before).toBe(2);
      expect(a.frames).toEqual([
        { room: kept, seq: 1 },
        { room: left, seq: 1 },
        { room: kept, seq: 2 },
        { room: kept, seq: 3 },
      ]);
      hub.close();
    } finally {
      await nc.close();
      proxy.close();
    }
  });

  it('let a draining connection finish: drain resolves, and nothing arrives after it', async () => {
    const nc = await connectNats(serviceUrls.nats, 'edge-room-sub-drain');
    const hub = await hubOver(nc);
    const a = new Recorder('a');
    const room: Room = 'game:drained';
    await hub.add(a, room);
    await publish(room, 1);
    await until('the first event', () => a.frames.length === 1);
    await nc.drain();
    expect(nc.isClosed()).toBe(true);
    await publish(room, 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(a.frames).toEqual([{ room, seq: 1 }]);
    // Closing the hub over a closed connection unsubscribes nothing and throws nothing.
    expect(() => hub.close()).not.toThrow();
    // A room cannot be opened on a closed connection: the join fails instead of hanging.
    await expect(hub.add(a, 'game:late')).rejects.toThrow(/closed/i);
  });
});
