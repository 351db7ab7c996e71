import { connectNats, type NatsConnection } from '@crowncast/bus';
import { liveRoomSubject, type Room } from '@crowncast/protocol';
import { cleanup, isolation, serviceUrls } from '@crowncast/testkit';
import { headers } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conn } from '../src/conn/types.js';
import { createHub } from '../src/fanout/hub.js';
import { createEdgeMetrics } from '../src/plugins/metrics.js';
import { streamHead } from './helpers.js';

const iso = isolation();
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connectNats(serviceUrls.nats, 'edge-join-window-test');
});

afterAll(async () => {
  await nc?.close();
  await cleanup(iso);
});

/** Records the seqs of every room event it is given, framed or sent. */
class RecConn implements Conn {
  readonly encoding = 'json' as const;
  readonly rooms = new Set<Room>();
  readonly userId = 'u';
  readonly sendBufferMaxBytes = 1 << 20;
  readonly seqs: number[] = [];
  constructor(readonly id: string) {}
  writeFrame(frame: Buffer): boolean {
    const len = frame[1] as number;
    const v = JSON.parse(frame.subarray(len === 126 ? 4 : len === 127 ? 10 : 2).toString()) as {
      seq?: number;
      events?: { seq: number }[];
    };
    this.seqs.push(...(v.events ? v.events.map((e) => e.seq) : [v.seq as number]));
    return true;
  }
  send(value: object): boolean {
    const v = value as { seq?: number; events?: { seq: number }[] };
    if (v.events) this.seqs.push(...v.events.map((e) => e.seq));
    else if (v.seq !== undefined) this.seqs.push(v.seq);
    return true;
  }
  close(): void {}
  closeSlow(): void {}
  whenDrained(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

function publish(room: Room, seq: number) {
  const h = headers();
  h.set('Nats-Sequence', String(seq));
  h.set('Nats-Last-Sequence', String(seq - 1));
  const env = { type: 'game:move', id: `e${seq}`, ts: new Date().toISOString(), data: {} };
  nc.publish(liveRoomSubject(room, iso.prefix), JSON.stringify(env), { headers: h });
  return nc.flush();
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a join while the room batching window is open', () => {
  it('does not deliver again the events the joining member already got from its replay', async () => {
    const hub = createHub({
      nc,
      prefix: iso.prefix,
      metrics: createEdgeMetrics(),
      batchWindowMs: 50,
      batchMaxEvents: 100,
      onDelivered: () => undefined,
      onError: (err) => {
        throw err;
      },
      readHead: await streamHead(nc, iso),
    });
    const room: Room = 'game:g1';
    const a = new RecConn('a');
    await hub.add(a, room);
    await publish(room, 1); // a quiet room: written at once, and the window starts
    await publish(room, 2); // waits for the window
    await wait(10);
    // b joins now; its replay (read from the stream) already sent it seq 2.
    const b = new RecConn('b');
    const member = await hub.addResuming(b, room);
    b.send({ seq: 2 });
    hub.endReplay(member, 2);
    await wait(120);
    await publish(room, 3);
    await wait(120);
    hub.close();
    expect(a.seqs).toEqual([1, 2, 3]);
    expect(b.seqs).toEqual([2, 3]);
  });
});
