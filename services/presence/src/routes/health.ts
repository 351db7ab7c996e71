import type { FastifyPluginAsync } from 'fastify';

/** /health/live: the process answers. /health/ready: NATS and Redis answer. */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/health/live', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { hide: true } }, async (_req, reply) => {
    const checks = {
      nats:
        !app.nats.isClosed() &&
        (await app.nats.flush().then(
          () => true,
          () => false,
        )),
      redis: await app.redis.ping().then(
        () => true,
        () => false,
      ),
    };
    const ready = Object.values(checks).every(Boolean);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
  });
};
