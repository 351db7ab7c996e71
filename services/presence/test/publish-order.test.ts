import { DEFAULT_ROOMS_STREAM, ensureRoomsStream } from '@crowncast/bus';
import { roomSubject } from '@crowncast/protocol';
import { cleanup, isolation } from '@crowncast/testkit';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { Counter, Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outcome, RoomFrame } from '../src/domain/records.js';
import type { PresenceMetrics } from '../src/plugins/metrics.js';
import { createPublisher } from '../src/publish/publisher.js';
import { readStream } from './helpers.js';

/** The publisher against real JetStream: a room's frames keep their order when a publish is retried. */
const iso = isolation();
let nc: NatsConnection;

function metrics(): PresenceMetrics {
  const registers = [new Registry()];
  const counter = (name: string, labelNames: string[] = []) =>
    new Counter({ name, help: name, labelNames, registers });
  return {
    registry: registers[0]!,
    messages: counter('m', ['kind']),
    dropped: counter('d', ['reason']),
    heartbeatConnections: counter('h'),
    published: counter('p', ['type']),
    coalesced: counter('c'),
    publishFailures: counter('f'),
    statusChanges: counter('s', ['status']),
    edgesExpired: counter('e'),
    redisErrors: counter('r'),
    scriptSeconds: new Histogram({ name: 'x', help: 'x', labelNames: ['script'], registers }),
  } as PresenceMetrics;
}

const outcome = (frames: RoomFrame[]): Outcome => ({
  changes: [],
  frames,
  overflows: [],
  drainedEdges: [],
  more: false,
});

beforeAll(async () => {
  nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
});

afterAll(async () => {
  await nc?.close();
  await cleanup(iso);
});

describe('presence frames of one room', () => {
  it('go out in the order decided even when the first one needs a retry', async () => {
    const publisher = createPublisher({
      nc,
      js: jetstream(nc),
      prefix: iso.prefix,
      log: pino({ level: 'silent' }),
      metrics: metrics(),
      publishUserStatus: false,
      roomsOnline: async (rooms) => rooms.map(() => 0),
    });
    const at = Date.now();
    // No stream holds the room's subject yet: the first publish fails and is retried after 200 ms.
    const connected = publisher.publish(
      outcome([{ id: 'order-1', room: 'club:c1', userId: 'ann', joined: true, at }]),
      at,
    );
    await new Promise((r) => setTimeout(r, 50));
    await ensureRoomsStream(nc, { ...DEFAULT_ROOMS_STREAM, name: iso.stream, prefix: iso.prefix });
    // Decided after the first, and its own first attempt would now succeed at once.
    const disconnected = publisher.publish(
      outcome([{ id: 'order-2', room: 'club:c1', userId: 'ann', joined: false, at: at + 1 }]),
      at + 1,
    );
    await Promise.all([connected, disconnected]);
    const stored = await readStream(nc, iso, roomSubject('club:c1', iso.prefix));
    expect(stored.map((e) => [e.event.id, e.event.type])).toEqual([
      ['presence-order-1', 'club:member:connected'],
      ['presence-order-2', 'club:member:disconnected'],
    ]);
  });
});
