import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloseCode } from '@crowncast/protocol';
import { cleanup, isolation, type RunningService, serviceEnv, spawnService } from '@crowncast/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, metric, startLedger } from './helpers.js';

/**
 * The edge verifies a token after the WebSocket upgrade (routes/ws.ts). Here the verification is
 * made slow on purpose: the edge checks ES256 tokens against a JWKS endpoint that answers after
 * JWKS_DELAY_MS, so every socket below is open while its token is still being checked.
 */
const JWKS_DELAY_MS = 1000;

const iso = isolation();
let ledger: RunningService;
let edge: RunningService;
let jwksServer: Server;
let jwksRequests = 0;
/** Set when the JWKS endpoint has answered: until then no token can have been verified. */
let jwksAnswered = false;
let privateKey: KeyObject;
const clients: Client[] = [];

const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An ES256 JWT, signed with node:crypto (not with the library the edge verifies with). */
function token(sub: string, expiresInSec = 300): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'ES256', kid: 'k1', typ: 'JWT' })}.${b64({ sub, iat: now, exp: now + expiresInSec })}`;
  const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

function open(t: string) {
  const c = Client.connect(edge.url, { token: t });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  privateKey = pair.privateKey;
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' };
  jwksServer = createServer((_req, res) => {
    jwksRequests++;
    setTimeout(() => {
      jwksAnswered = true;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    }, JWKS_DELAY_MS);
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;

  ledger = await startLedger(iso);
  const env = serviceEnv(iso, {
    LOG_LEVEL: 'info',
    EDGE_ID: 'edge-jwks',
    JWT_JWKS_URL: jwksUrl,
    JWT_ALGORITHMS: 'ES256',
  });
  delete (env as Record<string, string | undefined>).JWT_SECRET;
  edge = await spawnService('services/edge/src/server.ts', env);
}, 40_000);

afterAll(async () => {
  for (const c of clients) await c.close();
  await Promise.all([edge?.stop(), ledger?.stop()]);
  await new Promise((resolve) => jwksServer?.close(resolve));
  await cleanup(iso);
});

describe('admission after the upgrade', () => {
  // First: the edge has not fetched the JWKS yet, so both sockets open while their tokens wait.
  it('opens before the token is checked, holds early frames until `connected`, drops a client that left meanwhile', async () => {
    const early = open(token('ann'));
    const quitter = open(token('cid'));
    await Promise.all([early.opened, quitter.opened]);
    // Open (upgraded) before any token could be verified: the check runs after the upgrade.
    expect(jwksAnswered).toBe(false);
    // Sent before admission: they wait in the kernel, not lost, and are answered after `connected`.
    early.send({ type: 'ping', id: 'early' });
    early.send({ type: 'rooms', id: 'early-rooms' });
    quitter.ws.terminate();
    expect(jwksAnswered).toBe(false);
    await early.until((fs) => fs.some((f) => f.type === 'pong') && fs.some((f) => f.type === 'ack'));
    expect(early.frames.map((f) => f.type)).toEqual(['connected', 'pong', 'ack']);
    expect(early.frames[1]).toMatchObject({ id: 'early' });
    expect(early.frames[2]).toMatchObject({ id: 'early-rooms', for: 'rooms' });
    // The quitter's token verified too, after it had gone: it must not have become a connection.
    expect(await metric(edge, 'crowncast_edge_connections')).toBe(1);
    expect(jwksRequests).toBe(1);
    await early.close();
    await expect.poll(() => metric(edge, 'crowncast_edge_connections'), { timeout: 5000 }).toBe(0);
  });

  it('refuses a bad token with its code after the upgrade, with no data frame', async () => {
    const expired = open(token('ben', -60));
    const forged = open(`${(token('ben')).slice(0, -4)}AAAA`);
    expect(await expired.closed).toBe(CloseCode.AUTH_TOKEN_EXPIRED);
    expect(await forged.closed).toBe(CloseCode.AUTH_FAILED);
    expect(forged.closeReason).toBe('AUTH_TOKEN_INVALID');
    expect([...expired.frames, ...forged.frames]).toEqual([]);
  });
});
