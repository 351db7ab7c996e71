import fp from 'fastify-plugin';
import { Redis } from 'ioredis';

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis;
  }
}

/**
 * The ioredis client as `app.redis`. Commands fail fast while Redis is down instead of queueing
 * without bound; it reconnects by itself. Commands issued in the same tick share one round trip.
 */
export const redisPlugin = fp<{ url: string; connectionName: string }>(
  async (app, opts) => {
    const redis = new Redis(opts.url, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: true,
      enableAutoPipelining: true,
      connectionName: opts.connectionName,
    });
    redis.on('error', (err) => app.log.warn({ err: err.message }, 'redis error'));
    await redis.connect();
    app.decorate('redis', redis);
    app.addHook('onClose', async () => {
      await redis.quit().catch(() => redis.disconnect());
    });
  },
  { name: 'redis' },
);
