import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * Lets browser apps on the listed origins call this service's REST API directly (no cross-origin
 * access when the list is empty). Idempotency-Key and Authorization may be sent; Retry-After is readable.
 */
export async function allowOrigins(app: FastifyInstance, origins: string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: origins,
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
    exposedHeaders: ['retry-after', 'x-request-id'],
    maxAge: 600,
  });
}
