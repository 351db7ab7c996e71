import { createHmac } from 'node:crypto';
import { TEST_JWT_SECRET } from '@crowncast/testkit';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Hand-made JWTs, so every hostile variant (alg none, HS512, wrong key) can be built. */
export function craftJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: string | null = TEST_JWT_SECRET,
): string {
  const head = `${b64(header)}.${b64(payload)}`;
  if (secret === null) return `${head}.`;
  const alg = header.alg === 'HS512' ? 'sha512' : header.alg === 'HS384' ? 'sha384' : 'sha256';
  return `${head}.${createHmac(alg, secret).update(head).digest('base64url')}`;
}

/** Tokens that must all be refused with an AUTH_* code, for user `sub`. */
export function hostileTokens(sub: string, audience: string): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  const good = { sub, aud: audience, iat: now, exp: now + 3600 };
  return {
    forged: craftJwt({ alg: 'HS256', typ: 'JWT' }, good, 'another-secret-of-at-least-32-characters!'),
    expired: craftJwt({ alg: 'HS256' }, { ...good, iat: now - 7200, exp: now - 3600 }),
    alg_none: craftJwt({ alg: 'none' }, good, null),
    alg_none_signed: `${craftJwt({ alg: 'none' }, good, null)}c2lnbmF0dXJl`,
    hs512: craftJwt({ alg: 'HS512' }, good),
    wrong_audience: craftJwt({ alg: 'HS256' }, { ...good, aud: 'someone-else' }),
    no_audience: craftJwt({ alg: 'HS256' }, { sub, iat: now, exp: now + 3600 }),
    no_sub: craftJwt({ alg: 'HS256' }, { aud: audience, iat: now, exp: now + 3600 }),
    numeric_sub: craftJwt({ alg: 'HS256' }, { ...good, sub: 12345 }),
    sql_sub: craftJwt({ alg: 'HS256' }, { ...good, sub: "x' OR '1'='1" }),
    not_yet_valid: craftJwt({ alg: 'HS256' }, { ...good, nbf: now + 3600 }),
    garbage: 'not.a.jwt',
    two_parts: 'abc.def',
    huge: `${'a'.repeat(8000)}.${'b'.repeat(2000)}.c`,
    latin1: 'ey\u00ff.ey\u00ff.\u00ff',
    tampered_payload: (() => {
      const [h, , s] = craftJwt({ alg: 'HS256' }, good).split('.');
      return `${h}.${b64({ ...good, sub: 'someone_else' })}.${s}`;
    })(),
  };
}
