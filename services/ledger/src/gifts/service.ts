import type { Redis } from 'ioredis';
import type { Sql } from 'postgres';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { errors, type LedgerError } from '../domain/errors.js';
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
    (items) => commitGiftBatch(o.sql, items, o.limits, o.notifyChannel),
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
