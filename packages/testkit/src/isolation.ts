import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import postgres from 'postgres';

export const TEST_JWT_SECRET = 'crowncast-test-secret-0123456789abcdef';
export const TEST_ADMIN_TOKEN = 'crowncast-test-admin-token-0123456789';

export const serviceUrls = {
  database: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  nats: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
};

/** Unique names for one test file, so files run in parallel and leave nothing behind. */
export interface Isolation {
  id: string;
  schema: string;
  prefix: string;
  stream: string;
  redisPrefix: string;
}

export function isolation(): Isolation {
  const id = randomBytes(5).toString('hex');
  return { id, schema: `t_${id}`, prefix: `t${id}.`, stream: `ROOMS_T${id}`, redisPrefix: `t${id}:` };
}

/** The environment a service under test runs with. */
export function serviceEnv(iso: Isolation, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: serviceUrls.database,
    DATABASE_SCHEMA: iso.schema,
    NATS_URL: serviceUrls.nats,
    REDIS_URL: serviceUrls.redis,
    SUBJECT_PREFIX: iso.prefix,
    ROOMS_STREAM: iso.stream,
    REDIS_PREFIX: iso.redisPrefix,
    JWT_SECRET: TEST_JWT_SECRET,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    PORT: '0',
    HOST: '127.0.0.1',
    ...extra,
  };
}

/** Drops the schema, the stream and the Redis keys a test made. */
export async function cleanup(iso: Isolation): Promise<void> {
  const sql = postgres(serviceUrls.database, { max: 1, onnotice: () => {} });
  try {
    await sql`DROP SCHEMA IF EXISTS ${sql(iso.schema)} CASCADE`;
  } finally {
    await sql.end({ timeout: 5 });
  }
  const nc = await connect({ servers: serviceUrls.nats });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(iso.stream).catch(() => false);
  } finally {
    await nc.close();
  }
  const redis = new Redis(serviceUrls.redis, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${iso.redisPrefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
