import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { signDevToken } from '@crowncast/auth';
import { CloseCode, roomSubject } from '@crowncast/protocol';
import {
  cleanup,
  eventually,
  isolation,
  type RunningService,
  TEST_JWT_SECRET,
  tokenFor,
} from '@crowncast/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { admin, Client, metric, startEdge, startLedger } from './helpers.js';

const iso = isolation();
let ledger: RunningService;
let edge: RunningService;
let edgeD: RunningService;
let nc: NatsConnection;
const clients: Client[] = [];

function open(url: string, opts: Parameters<typeof Client.connect>[1]) {
  const c = Client.connect(url, opts);
  clients.push(c);
  return c;
}
async function connected(user: string, url = edge.url) {
  const c = open(url, { token: await tokenFor(user) });
  await c.frame('connected');
  return c;
}
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  ledger = await startLedger(iso);
  [edge, edgeD] = await Promise.all([
    startEdge(iso, {
      EDGE_ID: 'edge-l',
      WS_MAX_FRAME_BYTES: '1024',
      WS_MAX_MESSAGES_PER_MIN: '20',
      WS_MAX_CONNECTIONS_PER_USER: '2',
      WS_MAX_ROOMS_PER_CONNECTION: '3',
      ALLOWED_ORIGINS: 'https://app.example',
      HEARTBEAT_INTERVAL_MS: '300',
    }),
    startEdge(iso, { EDGE_ID: 'edge-d', WS_SEND_BUFFER_MAX_BYTES: '65536', DRAIN_SPREAD_MS: '500' }),
  ]);
  const a = admin(ledger);
  for (const u of ['ann', 'ben', 'cid']) await a.user(u);
  for (const club of ['c1', 'c2']) {
    await a.club(club);
    await a.member(club, 'ann');
  }
  nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
}, 40_000);

afterAll(async () => {
  for (const c of clients) await c.close();
  await nc?.close();
  await Promise.all([edge?.stop(), edgeD?.stop(), ledger?.stop()]);
  await cleanup(iso);
});

describe('handshake', () => {
  it('closes a missing, forged or expired token with its code and never sends a data frame', async () => {
    const missing = open(edge.url, {});
    const forged = open(edge.url, { token: await tokenFor('ann', { secret: 'x'.repeat(40) }) });
    const expired = open(edge.url, { token: await tokenFor('ann', { expiresInSec: -60 }), header: true });
    const garbage = open(edge.url, { token: 'not.a.jwt', header: true });
    expect(await missing.closed).toBe(CloseCode.AUTH_FAILED);
    expect(missing.closeReason).toBe('AUTH_TOKEN_MISSING');
    expect(await forged.closed).toBe(CloseCode.AUTH_FAILED);
    expect(forged.closeReason).toBe('AUTH_TOKEN_INVALID');
    expect(await garbage.closed).toBe(CloseCode.AUTH_FAILED);
    expect(await expired.closed).toBe(CloseCode.AUTH_TOKEN_EXPIRED);
    for (const c of [missing, forged, expired, garbage]) expect(c.frames).toEqual([]);
  });

  it('closes a foreign Origin (4004), admits the allowed one and clients without Origin', async () => {
    const foreign = open(edge.url, { token: await tokenFor('ann'), origin: 'https://evil.example' });
    expect(await foreign.closed).toBe(CloseCode.ORIGIN_NOT_ALLOWED);
    expect(foreign.frames).toEqual([]);
    const ok = open(edge.url, { token: await tokenFor('ben'), origin: 'https://app.example' });
    expect(await ok.frame('connected')).toMatchObject({
      data: { userId: 'ben', rooms: ['user:ben', 'global'] },
    });
    await ok.close();
  });

  it('closes a connection over the per-user limit (4005)', async () => {
    const a = await connected('cid');
    const b = await connected('cid');
    const c = open(edge.url, { token: await tokenFor('cid') });
    expect(await c.closed).toBe(CloseCode.TOO_MANY_CONNECTIONS);
    await Promise.all([a.close(), b.close()]);
    // Slots free up when connections close.
    const d = await connected('cid');
    await d.close();
  });
});

describe('inbound messages', () => {
  it('answers bad frames, unknown types and invalid messages with error codes and keeps the connection', async () => {
    const c = await connected('ann');
    c.ws.send('not json');
    c.ws.send('[1,2]');
    c.ws.send(JSON.stringify({ type: 'gift:send', id: 'u1', data: {} }));
    c.ws.send(JSON.stringify({ type: 'club:join', id: 'v1', data: { clubId: 'has a space' } }));
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    c.ws.send('null'); // valid JSON that is no message: it must be answered too
    await c.until((fs) => fs.filter((f) => f.type === 'error').length === 6 && true);
    const errors = c.frames.filter((f) => f.type === 'error');
    expect(errors.map((e) => e.code)).toEqual([
      'BAD_FRAME',
      'BAD_FRAME',
      'UNKNOWN_TYPE',
      'VALIDATION_FAILED',
      'BAD_FRAME',
      'BAD_FRAME',
    ]);
    expect(errors[2]?.id).toBe('u1');
    expect(errors[3]?.id).toBe('v1');
    c.send({ type: 'ping', id: 'still-here' });
    expect(await c.frame('pong')).toMatchObject({ id: 'still-here' });
    await c.close();
  });

  it('bounds rooms per connection and lists them', async () => {
    const c = await connected('ann');
    expect(await c.request('club:join', { clubId: 'c1' })).toMatchObject({ type: 'ack' });
    expect(await c.request('club:join', { clubId: 'c2' })).toMatchObject({
      type: 'error',
      code: 'TOO_MANY_ROOMS',
    });
    expect(await c.request('club:join', { clubId: 'c1' })).toMatchObject({ data: { alreadyJoined: true } });
    expect((await c.request('rooms')).data?.rooms).toEqual(['user:ann', 'global', 'club:c1']);
    await c.close();
  });

  it('closes an oversized frame with 1009', async () => {
    const c = await connected('ben');
    c.send({ type: 'ping', data: {}, pad: 'x'.repeat(2000) });
    expect(await c.closed).toBe(CloseCode.FRAME_TOO_LARGE);
  });

  it('closes a flood with 4008', async () => {
    const c = await connected('ben');
    for (let i = 0; i < 25; i++) c.send({ type: 'ping', id: `f${i}` });
    expect(await c.closed).toBe(CloseCode.RATE_LIMITED);
    expect(c.frames.filter((f) => f.type === 'pong').length).toBe(20);
  });
});

describe('token lifetime and heartbeats', () => {
  it('closes with 4003 when the token expires unrefreshed; auth:refresh keeps the connection', async () => {
    const short = () => signDevToken({ secret: TEST_JWT_SECRET, sub: 'ben', expiresInSec: 2 });
    const lapsing = open(edge.url, { token: await short() });
    const refreshed = open(edge.url, { token: await short() });
    await Promise.all([lapsing.frame('connected'), refreshed.frame('connected')]);
    expect(await refreshed.request('auth:refresh', { token: await tokenFor('ann') })).toMatchObject({
      code: 'AUTH_USER_MISMATCH',
    });
    expect(await refreshed.request('auth:refresh', { token: 'junk' })).toMatchObject({
      code: 'AUTH_TOKEN_INVALID',
    });
    const ok = await refreshed.request('auth:refresh', { token: await tokenFor('ben') });
    expect(ok).toMatchObject({ type: 'ack', for: 'auth:refresh' });
    expect(await lapsing.closed).toBe(CloseCode.AUTH_EXPIRED_UNREFRESHED);
    await wait(500);
    expect(refreshed.closeCode).toBeNull();
    refreshed.send({ type: 'ping', id: 'alive' });
    expect(await refreshed.frame('pong')).toMatchObject({ id: 'alive' });
    await refreshed.close();
  });

  it('terminates a connection that stops answering protocol pings', async () => {
    const before = await metric(edge, 'crowncast_edge_closes_total', 'code="heartbeat_timeout"');
    const c = await connected('cid');
    // A paused socket reads nothing, so it answers no ping: the edge must notice by itself.
    c.ws.pause();
    const deadline = Date.now() + 5000;
    while ((await metric(edge, 'crowncast_edge_closes_total', 'code="heartbeat_timeout"')) === before) {
      if (Date.now() > deadline) throw new Error('dead connection not detected');
      await wait(100);
    }
    c.ws.resume();
    expect(await c.closed).toBe(1006);
  });

  it('takes a connection out of its rooms when the client starts the close handshake, and writes nothing after the close frame', async () => {
    // A raw TCP client: it sends its close frame and then keeps its side of the connection open, where
    // ws would otherwise keep the socket (and its room memberships) for its 30 s close timeout.
    const witness = await connected('ben', edgeD.url);
    const sock = netConnect({ port: edgeD.port, host: '127.0.0.1', allowHalfOpen: true });
    onTestFinished(() => {
      sock.destroy();
    });
    const got: Buffer[] = [];
    sock.on('data', (b: Buffer) => got.push(b));
    const bytes = () => Buffer.concat(got);
    sock.write(
      `GET /ws?token=${await tokenFor('cid')} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await eventually(async () => bytes().includes('"type":"connected"'), 3000, 20);
    const open = await metric(edgeD, 'crowncast_edge_connections');
    // A masked close frame, code 1000.
    sock.write(Buffer.from([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2]));
    const closeFrame = Buffer.from([0x88, 0x02, 0x03, 0xe8]);
    await eventually(async () => bytes().includes(closeFrame), 3000, 20);
    // Gone from the count at once, not after ws's close timeout.
    await eventually(async () => (await metric(edgeD, 'crowncast_edge_connections')) === open - 1, 3000, 20);
    const seen = bytes().length;
    const env = {
      type: 'system:notice',
      id: 'after-close',
      ts: new Date().toISOString(),
      data: { message: 'x' },
    };
    for (const room of ['user:cid', 'global'] as const)
      nc.publish(roomSubject(room, iso.prefix), JSON.stringify(env));
    // A member that stayed gets it: the event was valid and delivered while the other was closing.
    await witness.until(
      () => witness.events('global').some((f) => f.id === 'after-close'),
      5000,
      'after-close',
    );
    await wait(200);
    expect(bytes().length).toBe(seen);
    expect(bytes().subarray(bytes().indexOf(closeFrame)).length).toBe(closeFrame.length);
  });
});

describe('slow consumers and drain', () => {
  it('closes a socket whose send buffer exceeds the bound with 4009, without disturbing others', async () => {
    const slow = await connected('ann', edgeD.url);
    const fast = await connected('ann', edgeD.url);
    slow.ws.pause();
    const subject = roomSubject('user:ann', iso.prefix);
    const big = 'y'.repeat(10_000);
    // Paced by the reading client, so only the paused one falls behind.
    for (let i = 0; i < 600; i++) {
      const env = { type: 'game:move', id: `big-${i}`, ts: new Date().toISOString(), data: { big } };
      nc.publish(subject, JSON.stringify(env));
      if (i % 5 === 4) await fast.until(() => fast.events('user:ann').length === i + 1 && true, 10_000);
    }
    expect(await metric(edgeD, 'crowncast_edge_slow_consumers_total')).toBe(1);
    slow.ws.resume();
    expect(await slow.closed).toBe(CloseCode.SLOW_CONSUMER);
    expect(slow.closeReason).toBe('SLOW_CONSUMER');
    expect(slow.events('user:ann').length).toBeLessThan(600);
    expect(fast.closeCode).toBeNull();
  });

  it('paces a resume replay bigger than the send bound, so a reading client catches up instead of 4009', async () => {
    const subject = roomSubject('user:dan', iso.prefix);
    const mark = await connected('dan', edgeD.url);
    nc.publish(
      subject,
      JSON.stringify({ type: 'game:move', id: 'mark', ts: new Date().toISOString(), data: {} }),
    );
    await mark.until(() => mark.events('user:dan').length === 1 && true);
    const from = mark.events('user:dan')[0]?.seq as number;
    await mark.close();
    // 60 events of 10 kB while dan is away: 600 kB to replay through a 64 kB send bound.
    const big = 'z'.repeat(10_000);
    for (let i = 0; i < 60; i++) {
      nc.publish(
        subject,
        JSON.stringify({ type: 'game:move', id: `r-${i}`, ts: new Date().toISOString(), data: { big } }),
      );
    }
    await nc.flush();
    await new Promise((r) => setTimeout(r, 300));
    const back = Client.connect(edgeD.url, { token: await tokenFor('dan'), query: `userLastSeq=${from}` });
    await back.until(() => back.events('user:dan').length === 60 && true, 10_000);
    expect(back.closeCode).toBeNull();
    expect(back.events('user:dan').map((e) => e.id)).toEqual(Array.from({ length: 60 }, (_, i) => `r-${i}`));
    await back.close();
  });

  it('serves health and metrics', async () => {
    expect((await fetch(`${edge.url}/health/live`)).status).toBe(200);
    expect(await (await fetch(`${edge.url}/health/ready`)).json()).toMatchObject({ status: 'ready' });
    const text = await (await fetch(`${edge.url}/metrics`)).text();
    for (const name of [
      'crowncast_edge_connections',
      'crowncast_edge_rooms',
      'crowncast_edge_frames_in_total',
      'crowncast_edge_frames_out_total',
      'crowncast_edge_delivery_latency_seconds_bucket',
      'crowncast_edge_replays_total',
      'crowncast_edge_slow_consumers_total',
      'crowncast_edge_invalid_envelopes_total',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('on SIGTERM tells every client server:draining with a jittered delay, closes them with 4012 and exits', async () => {
    const cs = await Promise.all(['ben', 'cid', 'ann'].map((u) => connected(u, edgeD.url)));
    // A client that reads nothing more never answers the close: the edge must not wait for it.
    const mute = await connected('dan', edgeD.url);
    mute.ws.pause();
    const t0 = Date.now();
    const exit = edgeD.stop('SIGTERM');
    for (const c of cs) {
      const d = await c.frame('server:draining');
      expect((d.data as { reconnectAfterMs: number }).reconnectAfterMs).toBeLessThanOrEqual(500);
      expect(await c.closed).toBe(CloseCode.SERVER_DRAINING);
    }
    expect(await exit).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
