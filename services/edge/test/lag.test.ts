import { DEFAULT_ROOMS_STREAM, ensureRoomsStream } from '@crowncast/bus';
import { CloseCode, roomSubject } from '@crowncast/protocol';
import { cleanup, isolation, type RunningService, tokenFor } from '@crowncast/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, metric, startEdge } from './helpers.js';

const iso = isolation();
let edge: RunningService;
let nc: NatsConnection;
const clients: Client[] = [];

const SEND_BUFFER_MAX = 256 * 1024 * 1024;

beforeAll(async () => {
  // A byte bound no test can reach: only the time bound can close a socket here.
  edge = await startEdge(iso, {
    EDGE_ID: 'edge-lag',
    WS_SEND_BUFFER_MAX_BYTES: String(SEND_BUFFER_MAX),
    WS_SEND_MAX_LAG_MS: '400',
  });
  nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
  // The ledger usually creates the stream whose republished copies the edge delivers.
  await ensureRoomsStream(nc, { ...DEFAULT_ROOMS_STREAM, name: iso.stream, prefix: iso.prefix });
}, 30_000);

afterAll(async () => {
  for (const c of clients) await c.close();
  await nc?.close();
  await edge?.stop();
  await cleanup(iso);
});

async function connected(user: string) {
  const c = Client.connect(edge.url, { token: await tokenFor(user) });
  clients.push(c);
  await c.frame('connected');
  return c;
}

describe('time bound on falling behind', () => {
  it('closes a socket whose oldest unsent data is older than WS_SEND_MAX_LAG_MS with 4009, far below the byte bound', async () => {
    const slow = await connected('eve');
    const fast = await connected('eve');
    slow.ws.pause();
    const subject = roomSubject('user:eve', iso.prefix);
    const big = 'q'.repeat(100_000);
    let published = 0;
    // Paced by the reading socket; enough to fill the paused one's kernel buffers, then wait out the bound.
    for (let i = 0; i < 400 && slow.closeCode === null; i++) {
      const env = { type: 'game:move', id: `lag-${i}`, ts: new Date().toISOString(), data: { big } };
      nc.publish(subject, JSON.stringify(env));
      published += big.length;
      await fast.until(() => fast.events('user:eve').length === i + 1 && true, 10_000);
      await new Promise((r) => setTimeout(r, 10));
    }
    slow.ws.resume();
    expect(await slow.closed).toBe(CloseCode.SLOW_CONSUMER);
    expect(slow.closeReason).toBe('SLOW_CONSUMER');
    expect(published).toBeLessThan(SEND_BUFFER_MAX / 4);
    expect(await metric(edge, 'crowncast_edge_slow_consumers_total')).toBe(1);
    expect(fast.closeCode).toBeNull();
  });
});
