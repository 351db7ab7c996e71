import type { FastifyPluginAsync } from 'fastify';

/** /health/live: the process answers. /health/ready: NATS answers and the edge is not draining. */
export const healthRoutes: FastifyPluginAsync<{ draining: () => boolean }> = async (app, o) => {
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_req, reply) => {
    const checks = {
      nats:
        !app.nats.isClosed() &&
        (await app.nats.flush().then(
          () => true,
          () => false,
        )),
      accepting: !o.draining(),
    };
    const ready = checks.nats && checks.accepting;
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
  });
};
