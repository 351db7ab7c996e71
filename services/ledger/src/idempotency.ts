import { createHash } from 'node:crypto';
import type { Sql, TransactionSql } from 'postgres';
import { errors, LedgerError } from './domain/errors.js';

/**
 * Idempotency-Key: a retry with the same key and the same request gets the first answer and moves
 * nothing; the same key with another request is refused (409). Keys are scoped per caller, and only
 * successful answers are stored: a refused request moved nothing, so retrying it simply runs again.
 */
export interface IdempotencyClaim {
  scope: string;
  key: string;
  hash: string;
}

export interface StoredAnswer {
  request_hash: string;
  status_code: number | null;
  response: unknown;
}

export type Answer = { status: number; body: unknown };
export type IdemOutcome = Answer | { error: LedgerError };

const KEY = /^[\x21-\x7e]{1,200}$/;

export function readKey(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  if (!KEY.test(value)) {
    throw new LedgerError(
      400,
      'LEDGER_INVALID_IDEMPOTENCY_KEY',
      'Idempotency-Key is 1-200 visible ASCII characters',
    );
  }
  return value;
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function claimFor(
  scope: string,
  key: string | undefined,
  operation: string,
  request: unknown,
): IdempotencyClaim | undefined {
  if (key === undefined) return undefined;
  return {
    scope,
    key,
    hash: createHash('sha256')
      .update(`${operation}\n${stable(request)}`)
      .digest('hex'),
  };
}

export function outcomeFromStored(claim: IdempotencyClaim, stored: StoredAnswer): IdemOutcome {
  if (stored.request_hash !== claim.hash) return { error: errors.idempotencyMismatch() };
  if (stored.status_code === null) {
    return {
      error: new LedgerError(
        409,
        'LEDGER_IDEMPOTENCY_IN_PROGRESS',
        'a request with this Idempotency-Key is still running',
      ),
    };
  }
  return { status: stored.status_code, body: stored.response };
}

/** The stored answer for a key, if any (a fast path before rate limits and batching). */
export async function lookupKey(sql: Sql, claim: IdempotencyClaim): Promise<IdemOutcome | null> {
  const [row] = await sql<StoredAnswer[]>`
    SELECT request_hash, status_code, response FROM idempotency_keys WHERE scope = ${claim.scope} AND key = ${claim.key}`;
  return row ? outcomeFromStored(claim, row) : null;
}

/**
 * Runs a mutation in one transaction with its key claimed first: a concurrent retry waits on the
 * key's row and then gets the stored answer.
 */
export async function withIdempotency(
  sql: Sql,
  claim: IdempotencyClaim | undefined,
  fn: (tx: TransactionSql) => Promise<Answer>,
): Promise<Answer> {
  const outcome = await sql.begin(async (tx): Promise<IdemOutcome> => {
    if (claim) {
      const [mine] = await tx`
        INSERT INTO idempotency_keys (scope, key, request_hash) VALUES (${claim.scope}, ${claim.key}, ${claim.hash})
        ON CONFLICT DO NOTHING RETURNING key`;
      if (!mine) {
        const [stored] = await tx<StoredAnswer[]>`
          SELECT request_hash, status_code, response FROM idempotency_keys WHERE scope = ${claim.scope} AND key = ${claim.key}`;
        return stored ? outcomeFromStored(claim, stored) : { error: errors.idempotencyMismatch() };
      }
    }
    const answer = await fn(tx);
    if (claim) {
      await tx`
        UPDATE idempotency_keys SET status_code = ${answer.status}, response = ${tx.json(answer.body as never)}
        WHERE scope = ${claim.scope} AND key = ${claim.key}`;
    }
    return answer;
  });
  if ('error' in outcome) throw outcome.error;
  return outcome;
}
