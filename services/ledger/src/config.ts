import { commonEnv, databaseEnv, env, jwtEnv, loadConfig, redisEnv } from '@crowncast/config';
import { z } from 'zod';

export const LedgerEnv = z.object({
  ...commonEnv,
  ...databaseEnv,
  ...redisEnv,
  ...jwtEnv,
  PORT: env.port(3000),
  /** Credential of the admin/internal API (Authorization: Bearer or x-admin-token). */
  ADMIN_TOKEN: z.string().min(24, 'ADMIN_TOKEN must be at least 24 characters'),
  /** Apply migrations when the service starts. */
  MIGRATE_ON_START: env.bool(true),
  /** Gifts per minute per user. */
  GIFT_RATE_LIMIT_PER_MIN: env.int(10, 1),
  /** The same gift this many times in a minute is refused as spam. */
  GIFT_SPAM_SAME_PER_MIN: env.int(10, 1),
  /** A gift whose total is at least this is announced on room.global. */
  LEGENDARY_THRESHOLD: env.int(10_000, 1),
  GIFT_MAX_QUANTITY: env.int(99, 1),
  GIFT_MESSAGE_MAX: env.int(200, 0),
  /** Most gifts committed in one PostgreSQL transaction. */
  BATCH_MAX: env.int(200, 1, 5000),
  /** Gift transactions in flight at once. */
  BATCH_CONCURRENCY: env.int(2, 1, 32),
  /** Run the outbox relay in this process (one replica holds its lock at a time). */
  RELAY_ENABLED: env.bool(true),
  /** Most events the relay publishes per round. */
  RELAY_BATCH: env.int(500, 1, 10_000),
  /** The relay polls this often even without a NOTIFY. */
  RELAY_POLL_MS: env.int(1000, 10),
  /** Delivery analytics from edges are written at least this often. */
  ANALYTICS_FLUSH_MS: env.int(1000, 10),
  /** Published outbox rows and idempotency keys are purged after this. */
  RETENTION_HOURS: env.int(24, 1),
  ROOMS_MAX_MSGS_PER_SUBJECT: env.int(10_000, 1),
  ROOMS_MAX_AGE_S: env.int(86_400, 60),
  ROOMS_DUPLICATE_WINDOW_S: env.int(600, 1),
  ROOMS_REPLICAS: env.int(1, 1, 5),
});
export type LedgerConfig = z.infer<typeof LedgerEnv>;

export function loadLedgerConfig(source: NodeJS.ProcessEnv = process.env): Readonly<LedgerConfig> {
  return loadConfig(LedgerEnv, source);
}
