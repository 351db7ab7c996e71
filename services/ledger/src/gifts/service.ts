import type { Redis } from 'ioredis';
import type { Sql } from 'postgres';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { errors, LedgerError } from '../domain/errors.js';
import { accountsOf } from '../domain/gift-plan.js';
import { checkShape, type GiftLimits, type GiftRequest } from '../domain/gift-rules.js';
import { type Answer, claimFor, type IdemOutcome, lookupKey } from '../idempotency.js';
import { Batcher } from './batcher.js';
import { type BatchItem, commitGiftBatch, type Outcome } from './store.js';

export interface GiftServiceOptions {
  sql: Sql;
  redis: Redis;
  limits: GiftLimits;
  ratePerMin: number;
  spamSamePerMin: number;
  redisPrefix: string;
  batchMax: number;
  batchConcurrency: number;
  notifyChannel: string;
  onBatch?: (size: number, ms: number) => void;
}

export interface GiftService {
  send(req: GiftRequest, idempotencyKey?: string): Promise<Answer>;
  drained(): Promise<void>;
}

/**
 * Sending a gift: stateless rules, the stored answer of a retried key, the spam and rate limits
 * (Redis, shared by every ledger replica; an in-memory limiter stands in while Redis is down so
 * gifts keep flowing), then the micro-batched transaction.
 */
export function createGiftService(o: GiftServiceOptions): GiftService {
  const limiter = (name: string, points: number) =>
    new RateLimiterRedis({
      storeClient: o.redis,
      keyPrefix: `${o.redisPrefix}rl:${name}`,
      points,
      duration: 60,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: `rl:${name}`, points, duration: 60 }),
    });
  const rate = limiter('gift', o.ratePerMin);
  const spam = limiter('same-gift', o.spamSamePerMin);
  const batcher = new Batcher<BatchItem, Outcome>(
    (items) => commitIsolated(items, (part) => commitGiftBatch(o.sql, part, o.limits, o.notifyChannel)),
    {
      max: o.batchMax,
      concurrency: o.batchConcurrency,
      keysOf: (item) => accountsOf(item.req),
      ...(o.onBatch ? { onBatch: o.onBatch } : {}),
    },
  );
  // A retry that arrives while the first attempt is still committing waits for it.
  const inFlight = new Map<string, Promise<unknown>>();

  async function consume(l: RateLimiterRedis, key: string, refuse: (sec: number) => LedgerError) {
    try {
      await l.consume(key);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw refuse(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
      throw res;
    }
  }

  return {
    async send(req, idempotencyKey) {
      const bad = checkShape(req, o.limits);
      if (bad) throw bad;
      const claim = claimFor(`user:${req.senderId}`, idempotencyKey, 'gift.send', req);
      const flightKey = claim ? `${claim.scope}\u0000${claim.key}` : '';
      if (claim) {
        await inFlight.get(flightKey)?.catch(() => undefined);
        const stored = await lookupKey(o.sql, claim);
        if (stored) return unwrap(stored);
      }
      // Both limits in one round trip (ioredis pipelines commands issued in the same tick).
      const [spamCheck, rateCheck] = await Promise.allSettled([
        consume(spam, `${req.senderId}:${req.giftId}`, errors.spam),
        consume(rate, req.senderId, errors.rateLimited),
      ]);
      if (spamCheck.status === 'rejected') throw spamCheck.reason;
      if (rateCheck.status === 'rejected') throw rateCheck.reason;
      const pending = batcher.submit({ req, idem: claim });
      if (claim) {
        inFlight.set(flightKey, pending);
        void pending
          .finally(() => inFlight.get(flightKey) === pending && inFlight.delete(flightKey))
          .catch(() => undefined);
      }
      return unwrap(await pending);
    },
    drained: () => batcher.drained(),
  };
}

function unwrap(o: IdemOutcome): Answer {
  if ('error' in o) throw o.error;
  return o;
}

/** SQLSTATE classes caused by one request's data (22: data exception, 23: integrity violation). */
function isDataError(err: unknown): err is { code: string; message: string } {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

/**
 * One request whose data PostgreSQL refuses must not fail the others batched with it: the batch is
 * split in halves and committed again until the request that fails stands alone. Class 22 (bad data)
 * is that request's 400; anything else is thrown as before.
 */
export async function commitIsolated(
  items: BatchItem[],
  commit: (items: BatchItem[]) => Promise<Outcome[]>,
): Promise<Outcome[]> {
  try {
    return await commit(items);
  } catch (err) {
    if (!isDataError(err)) throw err;
    if (items.length === 1) {
      if (err.code.startsWith('22')) {
        return [
          {
            error: new LedgerError(
              400,
              'LEDGER_VALIDATION_FAILED',
              'the request holds data the ledger cannot store',
            ),
          },
        ];
      }
      throw err;
    }
    const half = Math.ceil(items.length / 2);
    return [
      ...(await commitIsolated(items.slice(0, half), commit)),
      ...(await commitIsolated(items.slice(half), commit)),
    ];
  }
}
