import type { FastifyPluginAsync } from 'fastify';

/** A dependency that does not answer within a second counts as down: readiness must never hang. */
function within(p: Promise<unknown>, ms = 1000): Promise<boolean> {
  return Promise.race([
    p.then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
  ]);
}

/** /health/live: the process answers. /health/ready: PostgreSQL answers (NATS and Redis are reported). */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/health/live', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { hide: true } }, async (_req, reply) => {
    const checks = {
      postgres: await within(app.sql`SELECT 1`.execute()),
      nats: !app.nats.isClosed() && (await within(app.nats.flush())),
      redis: await within(app.redis.ping()),
    };
    // Only PostgreSQL gates readiness: without NATS the outbox keeps committed events until it is
    // back, and without Redis the rate limiter falls back to memory, so gifts keep flowing.
    const ready = checks.postgres;
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
  });
};
