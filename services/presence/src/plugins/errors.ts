import { AuthError } from '@crowncast/auth';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { PresenceError } from '../domain/errors.js';

const DEPENDENCY_DOWN =
  /ECONNREFUSED|ECONNRESET|Connection is closed|Stream isn't writeable|enableOfflineQueue|TIMEOUT|CONNECTION_CLOSED/i;

function send(reply: FastifyReply, status: number, code: string, message: string, details?: unknown) {
  return reply
    .status(status)
    .send({ success: false, error: { code, message, ...(details === undefined ? {} : { details }) } });
}

/** The one error handler: every failure is `{ success: false, error: { code, message } }`; 5xx never leak internals. */
export default fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((err: FastifyError, req, reply) => {
      if (err instanceof PresenceError)
        return send(reply, err.statusCode, err.code, err.message, err.details);
      if (err instanceof AuthError) return send(reply, 401, err.code, err.message);
      if (hasZodFastifySchemaValidationErrors(err)) {
        return send(reply, 400, 'PRESENCE_VALIDATION_FAILED', 'the request does not match the schema', {
          issues: err.validation.map((v) => ({ path: v.instancePath || '/', message: v.message })),
        });
      }
      const status = err.statusCode ?? 500;
      if (status === 413)
        return send(reply, 413, 'PRESENCE_PAYLOAD_TOO_LARGE', 'the request body is too large');
      if (status === 415) return send(reply, 415, 'PRESENCE_UNSUPPORTED_MEDIA_TYPE', 'send application/json');
      if (status >= 400 && status < 500) return send(reply, status, 'PRESENCE_BAD_REQUEST', err.message);
      if (DEPENDENCY_DOWN.test(`${err.code ?? ''} ${err.message}`)) {
        req.log.warn({ err }, 'dependency unavailable');
        void reply.header('retry-after', '1');
        return send(reply, 503, 'PRESENCE_UNAVAILABLE', 'presence state is unavailable; retry shortly');
      }
      req.log.error({ err }, 'unhandled error');
      return send(reply, 500, 'PRESENCE_INTERNAL', 'internal error');
    });
    app.setNotFoundHandler((req, reply) =>
      send(reply, 404, 'PRESENCE_ROUTE_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`),
    );
  },
  { name: 'errors' },
);
