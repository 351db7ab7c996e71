import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment once at boot. Fails fast with every bad variable named, and returns a
 * frozen, typed object. Behaviour never switches on NODE_ENV.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<z.infer<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  return Object.freeze(result.data);
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const env = {
  port: (def: number) => z.coerce.number().int().min(0).max(65535).default(def),
  int: (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(def),
  bool: (def: boolean) => bool.default(def),
  list: (def: string[]) =>
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      )
      .default(def),
};

/** Variables every service reads. */
export const commonEnv = {
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('0.0.0.0'),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /** Prefix for every NATS subject and the stream name; empty in production, unique per test. */
  SUBJECT_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9_-]+\.)?$/, 'SUBJECT_PREFIX is empty or one token ending in a dot, like "t1."')
    .default(''),
  ROOMS_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('ROOMS'),
  SHUTDOWN_TIMEOUT_MS: env.int(10_000, 100),
  /** Browser origins allowed to call the REST API directly (CORS); none when empty. */
  CORS_ORIGINS: env.list([]),
};

export const databaseEnv = {
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/test'),
  /** Schema the service's tables live in; tests use one per file. */
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default('public'),
  DATABASE_POOL_MAX: env.int(10, 1, 200),
};

export const redisEnv = {
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /** Prefix of every Redis key; unique per test. */
  REDIS_PREFIX: z.string().default('crowncast:'),
};

export const jwtEnv = {
  /** HS256 shared secret for local use (at least 32 characters). */
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional(),
  /** JWKS URL of the identity provider, for production. */
  JWT_JWKS_URL: z.url().optional(),
  JWT_ALGORITHMS: env.list(['HS256']),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
};
