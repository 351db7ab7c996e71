import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, bearerToken, createTokenVerifier, signDevToken } from '../src/index.js';

const SECRET = 'a-test-secret-of-at-least-32-characters!!';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof AuthError ? e.code : `unexpected ${String(e)}`;
  }
}

describe('HS256 shared secret (local use)', () => {
  const verify = createTokenVerifier({
    secret: SECRET,
    algorithms: ['HS256'],
    issuer: 'crowncast-test',
    audience: 'apps',
  });
  const sign = (claims: Record<string, unknown>, alg = 'HS256', secret = SECRET) =>
    new SignJWT(claims).setProtectedHeader({ alg }).sign(new TextEncoder().encode(secret));
  const now = () => Math.floor(Date.now() / 1000);

  it('accepts a valid token and gives sub as the user id with its expiry', async () => {
    const t = await signDevToken({
      secret: SECRET,
      sub: 'alice',
      issuer: 'crowncast-test',
      audience: 'apps',
      expiresInSec: 60,
    });
    const v = await verify(t);
    expect(v.userId).toBe('alice');
    expect(v.expiresAt).toBeGreaterThan(Date.now());
  });

  it('checks exp, nbf, iss, aud and sub', async () => {
    const base = { sub: 'alice', iss: 'crowncast-test', aud: 'apps', exp: now() + 60 };
    expect(await code(verify(await sign({ ...base, exp: now() - 60 })))).toBe('AUTH_TOKEN_EXPIRED');
    expect(await code(verify(await sign({ ...base, nbf: now() + 600 })))).toBe('AUTH_CLAIM_INVALID');
    expect(await code(verify(await sign({ ...base, iss: 'someone-else' })))).toBe('AUTH_CLAIM_INVALID');
    expect(await code(verify(await sign({ ...base, aud: 'other-app' })))).toBe('AUTH_CLAIM_INVALID');
    expect(await code(verify(await sign({ ...base, sub: 'has space' })))).toBe('AUTH_CLAIM_INVALID');
    expect(await code(verify(await sign({ ...base, sub: undefined })))).toBe('AUTH_CLAIM_INVALID');
  });

  it('refuses other algorithms, alg none, other keys and garbage', async () => {
    const base = { sub: 'alice', iss: 'crowncast-test', aud: 'apps', exp: now() + 60 };
    expect(await code(verify(await sign(base, 'HS512')))).toBe('AUTH_ALGORITHM_NOT_ALLOWED');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(base)).toString('base64url')}.`;
    expect(await code(verify(none))).toBe('AUTH_ALGORITHM_NOT_ALLOWED');
    expect(await code(verify(await sign(base, 'HS256', 'another-secret-of-at-least-32-chars!!')))).toBe(
      'AUTH_TOKEN_INVALID',
    );
    expect(await code(verify('not.a.jwt'))).toBe('AUTH_TOKEN_INVALID');
    expect(await code(verify(undefined))).toBe('AUTH_TOKEN_MISSING');
  });

  it('verifies each allowed HMAC algorithm with the shared secret', async () => {
    const both = createTokenVerifier({ secret: SECRET, algorithms: ['HS256', 'HS384'], cacheSize: 0 });
    const base = { sub: 'alice', exp: now() + 60 };
    expect((await both(await sign(base, 'HS256'))).userId).toBe('alice');
    expect((await both(await sign(base, 'HS384'))).userId).toBe('alice');
    expect(await code(both(await sign(base, 'HS512')))).toBe('AUTH_ALGORITHM_NOT_ALLOWED');
    expect(await code(both(await sign(base, 'HS384', 'another-secret-of-at-least-32-chars!!')))).toBe(
      'AUTH_TOKEN_INVALID',
    );
  });

  it('refuses to be configured unsafely', () => {
    expect(() => createTokenVerifier({ algorithms: ['HS256'] })).toThrow(/exactly one/);
    expect(() => createTokenVerifier({ secret: SECRET, algorithms: ['RS256'] })).toThrow(/HS256/);
    expect(() => createTokenVerifier({ secret: SECRET, algorithms: ['none'] })).toThrow(/no algorithm/);
    expect(() => createTokenVerifier({ jwksUrl: 'http://127.0.0.1:1/jwks', algorithms: ['HS256'] })).toThrow(
      /asymmetric/,
    );
  });

  it('remembers a verified token until it expires, then refuses it', async () => {
    const cached = createTokenVerifier({ secret: SECRET, algorithms: ['HS256'], clockToleranceSec: 0 });
    const t = await signDevToken({ secret: SECRET, sub: 'carol', expiresInSec: 2 });
    expect((await cached(t)).userId).toBe('carol');
    expect((await cached(t)).userId).toBe('carol');
    await new Promise((r) => setTimeout(r, 2100));
    expect(await code(cached(t))).toBe('AUTH_TOKEN_EXPIRED');
    expect(await code(cached(`${t}x`))).toBe('AUTH_TOKEN_INVALID');
  });

  it('reads only Bearer authorization headers', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer   abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});

describe('JWKS URL (production)', () => {
  let server: Server;
  let url = '';
  let privateKey: CryptoKey;
  let otherKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    otherKey = (await generateKeyPair('ES256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("verifies tokens signed by the identity provider's key from its JWKS, and nothing else", async () => {
    const verify = createTokenVerifier({ jwksUrl: url, algorithms: ['ES256'], audience: 'apps' });
    const sign = (key: CryptoKey, kid = 'k1') =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid })
        .setSubject('bob')
        .setAudience('apps')
        .setExpirationTime('5m')
        .sign(key);
    expect((await verify(await sign(privateKey))).userId).toBe('bob');
    expect(await code(verify(await sign(otherKey)))).toBe('AUTH_TOKEN_INVALID');
    expect(await code(verify(await sign(privateKey, 'unknown-kid')))).toBe('AUTH_TOKEN_INVALID');
    const hs = await signDevToken({ secret: SECRET, sub: 'bob', audience: 'apps' });
    expect(await code(verify(hs))).toBe('AUTH_ALGORITHM_NOT_ALLOWED');
  });
});
