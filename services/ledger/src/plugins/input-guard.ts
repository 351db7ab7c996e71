import fp from 'fastify-plugin';
import { LedgerError } from '../domain/errors.js';

/** True when any string (or key) in a parsed body, params or query holds U+0000. */
function hasNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasNul(v, depth + 1));
  return Object.entries(value).some(([k, v]) => k.includes('\u0000') || hasNul(v, depth + 1));
}

/**
 * PostgreSQL text can never hold U+0000: a request carrying it anywhere is refused here, for every
 * route, before it can reach a query (where it would fail the whole gift batch it landed in).
 */
export default fp(
  async (app) => {
    app.addHook('preValidation', async (req) => {
      if (hasNul(req.body) || hasNul(req.params) || hasNul(req.query)) {
        throw new LedgerError(
          400,
          'LEDGER_VALIDATION_FAILED',
          'strings may not contain the NUL character (U+0000)',
        );
      }
    });
  },
  { name: 'input-guard' },
);
