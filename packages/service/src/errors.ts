import type { IncomingMessage } from 'node:http';
import { AuthError } from '@crowncast/auth';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

/** A refusal the client can act on: HTTP status plus a prefixed machine-readable code. */
export class ServiceError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

const DEPENDENCY_DOWN =
  /ECONNREFUSED|ECONNRESET|CONNECTION_(ENDED|CLOSED|DESTROYED)|CONNECT_TIMEOUT|Connection is closed|Stream isn't writeable|enableOfflineQueue|TIMEOUT|closed connection/i;

/**
 * PostgreSQL's own "not now": a connection exception (class 08), a shutdown or start-up in progress
 * (57P01-57P03: a restart), no connection slot left (53300). postgres.js reports them by SQLSTATE.
 */
const DEPENDENCY_DOWN_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;

/**
 * Reads and drops what is left of a refused request body (at most `maxBytes`, for at most `maxMs`).
 * Node closes a connection whose request body was not read; a client still writing it then gets a
 * broken pipe instead of the answer. Draining first lets it read the 413 and its code.
 */
function discardBody(raw: IncomingMessage, maxBytes = 8 * 1024 * 1024, maxMs = 5_000): Promise<void> {
  if (raw.complete || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', done);
      raw.off('close', done);
      raw.off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) done();
    };
    const timer = setTimeout(done, maxMs);
    raw.on('data', onData);
    raw.once('end', done);
    raw.once('close', done);
    raw.once('error', done);
    raw.resume();
  });
}

function send(reply: FastifyReply, status: number, code: string, message: string, details?: unknown) {
  return reply
    .status(status)
    .send({ success: false, error: { code, message, ...(details === undefined ? {} : { details }) } });
}

/**
 * The one error handler of a service: every failure is `{ success: false, error: { code, message } }`
 * with codes prefixed by the service (`LEDGER_`, `PRESENCE_`…), a dependency that is down is a 503
 * with Retry-After, and 5xx never leak internals.
 */
export const errorHandler = fp<{ prefix: string; unavailable: string }>(
  async (app: FastifyInstance, { prefix, unavailable }) => {
    app.setErrorHandler((err: FastifyError, req, reply) => {
      if (err instanceof ServiceError) {
        const retry = (err.details as { retryAfterSec?: number } | undefined)?.retryAfterSec;
        if (retry) void reply.header('retry-after', String(retry));
        return send(reply, err.statusCode, err.code, err.message, err.details);
      }
      if (err instanceof AuthError) return send(reply, 401, err.code, err.message);
      if (hasZodFastifySchemaValidationErrors(err)) {
        return send(reply, 400, `${prefix}_VALIDATION_FAILED`, 'the request does not match the schema', {
          issues: err.validation.map((v) => ({ path: v.instancePath || '/', message: v.message })),
        });
      }
      const status = err.statusCode ?? 500;
      if (status === 413) {
        return discardBody(req.raw).then(() =>
          send(
            reply.header('connection', 'close'),
            413,
            `${prefix}_PAYLOAD_TOO_LARGE`,
            'the request body is too large',
          ),
        );
      }
      if (status === 415)
        return send(reply, 415, `${prefix}_UNSUPPORTED_MEDIA_TYPE`, 'send application/json');
      if (status >= 400 && status < 500) return send(reply, status, `${prefix}_BAD_REQUEST`, err.message);
      if (
        DEPENDENCY_DOWN.test(`${err.code ?? ''} ${err.message}`) ||
        DEPENDENCY_DOWN_SQLSTATE.test(String(err.code ?? ''))
      ) {
        req.log.warn({ err }, 'dependency unavailable');
        void reply.header('retry-after', '1');
        return send(reply, 503, `${prefix}_UNAVAILABLE`, unavailable);
      }
      req.log.error({ err }, 'unhandled error');
      return send(reply, 500, `${prefix}_INTERNAL`, 'internal error');
    });
    app.setNotFoundHandler((req, reply) =>
      send(reply, 404, `${prefix}_ROUTE_NOT_FOUND`, `no route ${req.method} ${req.url.split('?')[0]}`),
    );
  },
  { name: 'errors' },
);
