import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';

export type AuthErrorCode =
  | 'AUTH_TOKEN_MISSING'
  | 'AUTH_TOKEN_EXPIRED'
  | 'AUTH_TOKEN_INVALID'
  | 'AUTH_ALGORITHM_NOT_ALLOWED'
  | 'AUTH_CLAIM_INVALID';

export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface VerifierOptions {
  /** HS256 shared secret (local use). */
  secret?: string | undefined;
  /** JWKS URL (production). Exactly one of secret and jwksUrl. */
  jwksUrl?: string | undefined;
  /** Allowed algorithms; `none` is never accepted. */
  algorithms: string[];
  issuer?: string | undefined;
  audience?: string | undefined;
  /** Seconds of clock skew tolerated on exp/nbf. Default 5. */
  clockToleranceSec?: number;
  /**
   * Verified tokens remembered (by their exact text) until they expire, so a client's many requests
   * with one token cost one signature check. Default 10,000; 0 disables.
   */
  cacheSize?: number;
}

export interface VerifiedToken {
  userId: string;
  /** Expiry, epoch ms (null if the token has none). */
  expiresAt: number | null;
  claims: JWTPayload;
}

const SYMMETRIC = /^HS(256|384|512)$/;
const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export type TokenVerifier = (token: string | undefined | null) => Promise<VerifiedToken>;

/** Builds the one verifier every service uses: exp/nbf/iss/aud checked, `sub` is the user id. */
export function createTokenVerifier(opts: VerifierOptions): TokenVerifier {
  if (Boolean(opts.secret) === Boolean(opts.jwksUrl)) {
    throw new Error('auth: configure exactly one of JWT_SECRET and JWT_JWKS_URL');
  }
  const algorithms = opts.algorithms.filter((a) => a.toLowerCase() !== 'none');
  if (algorithms.length === 0) throw new Error('auth: JWT_ALGORITHMS allows no algorithm');
  if (opts.secret && !algorithms.every((a) => SYMMETRIC.test(a))) {
    throw new Error('auth: a shared secret only goes with HS256/HS384/HS512');
  }
  if (opts.jwksUrl && algorithms.some((a) => SYMMETRIC.test(a))) {
    throw new Error('auth: a JWKS URL only goes with asymmetric algorithms (RS256, ES256, EdDSA, …)');
  }
  const key: JWTVerifyGetKey = opts.secret
    ? hmacKeys(opts.secret, algorithms)
    : createRemoteJWKSet(new URL(opts.jwksUrl as string), { cooldownDuration: 30_000, cacheMaxAge: 600_000 });

  const verifyOnce: TokenVerifier = async (token) => {
    if (!token) throw new AuthError('AUTH_TOKEN_MISSING', 'a bearer token is required');
    try {
      const verifyOpts = {
        algorithms,
        clockTolerance: opts.clockToleranceSec ?? 5,
        ...(opts.issuer ? { issuer: opts.issuer } : {}),
        ...(opts.audience ? { audience: opts.audience } : {}),
      };
      const { payload } = await jwtVerify(token, key, verifyOpts);
      if (typeof payload.sub !== 'string' || !USER_ID.test(payload.sub)) {
        throw new AuthError('AUTH_CLAIM_INVALID', 'the token has no valid sub (user id)');
      }
      return { userId: payload.sub, expiresAt: payload.exp ? payload.exp * 1000 : null, claims: payload };
    } catch (err) {
      throw toAuthError(err);
    }
  };

  const cacheSize = opts.cacheSize ?? 10_000;
  if (cacheSize <= 0) return verifyOnce;
  const cache = new Map<string, VerifiedToken>();
  const toleranceMs = (opts.clockToleranceSec ?? 5) * 1000;
  return async (token) => {
    const hit = token ? cache.get(token) : undefined;
    if (hit) {
      if (hit.expiresAt === null || Date.now() < hit.expiresAt + toleranceMs) return hit;
      cache.delete(token as string);
    }
    const verified = await verifyOnce(token);
    // A token that is not valid yet (nbf) never got here; one without exp is cached like any other.
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
    cache.set(token as string, verified);
    return verified;
  };
}

/**
 * The shared secret as one HMAC CryptoKey per allowed algorithm, imported once: given the raw bytes,
 * jose imports them again on every verification (a WebCrypto import per request or connection).
 * jose checks the header's alg against the allowlist before it asks for the key.
 */
function hmacKeys(secret: string, algorithms: string[]): JWTVerifyGetKey {
  const raw = new TextEncoder().encode(secret);
  const keys = new Map(
    algorithms.map((alg) => [
      alg,
      crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: `SHA-${alg.slice(2)}` }, false, ['verify']),
    ]),
  );
  return (header) => {
    const k = keys.get(header.alg ?? '');
    if (!k) throw new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
    return k;
  };
}

function toAuthError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof errors.JWTExpired) return new AuthError('AUTH_TOKEN_EXPIRED', 'the token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new AuthError('AUTH_CLAIM_INVALID', `the token's ${err.claim} claim is not accepted`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return new AuthError(
      'AUTH_ALGORITHM_NOT_ALLOWED',
      'the token is signed with an algorithm that is not allowed',
    );
  }
  return new AuthError('AUTH_TOKEN_INVALID', 'the token is malformed or its signature does not verify');
}

/** Reads `Authorization: Bearer <token>`; null when absent or of another scheme. */
export function bearerToken(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return m ? (m[1] ?? null) : null;
}

/** Signs an HS256 token: for local development, the demo and tests. Production tokens come from the identity provider. */
export async function signDevToken(opts: {
  secret: string;
  sub: string;
  expiresInSec?: number;
  issuer?: string | undefined;
  audience?: string | undefined;
  claims?: Record<string, unknown>;
}): Promise<string> {
  let jwt = new SignJWT({ ...(opts.claims ?? {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(opts.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.expiresInSec ?? 3600));
  if (opts.issuer) jwt = jwt.setIssuer(opts.issuer);
  if (opts.audience) jwt = jwt.setAudience(opts.audience);
  return jwt.sign(new TextEncoder().encode(opts.secret));
}
