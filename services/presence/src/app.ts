import { allowOrigins, errorHandler, redisPlugin } from '@crowncast/service';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { PresenceConfig } from './config.js';
import { startConsumer } from './ingest/consumer.js';
import authPlugin from './plugins/auth.js';
import metricsPlugin from './plugins/metrics.js';
import natsPlugin from './plugins/nats.js';
import { createPublisher } from './publish/publisher.js';
import { healthRoutes } from './routes/health.js';
import { presenceRoutes } from './routes/presence.js';
import { createPresenceStore } from './store/presence-store.js';
import { startSweeper } from './sweeper.js';

export interface BuildOptions {
  config: Readonly<PresenceConfig>;
  fastify?: FastifyServerOptions;
  /** The clock presence decides by (idle/away timers, edge expiry). Default: wall clock + CLOCK_OFFSET_MS. */
  clock?: () => number;
}

/** The presence app. It never listens: server.ts does, tests use inject() or listen on port 0. */
export async function buildApp({ config, fastify = {}, clock }: BuildOptions): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: 64 * 1024, ...fastify }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const now = clock ?? (() => Date.now() + config.CLOCK_OFFSET_MS);

  await app.register(errorHandler, {
    prefix: 'PRESENCE',
    unavailable: 'presence state is unavailable; retry shortly',
  });
  await allowOrigins(app, config.CORS_ORIGINS);
  await app.register(redisPlugin, { url: config.REDIS_URL, connectionName: 'crowncast-presence' });
  await app.register(natsPlugin, { url: config.NATS_URL });
  await app.register(authPlugin, {
    verifier: {
      secret: config.JWT_SECRET,
      jwksUrl: config.JWT_JWKS_URL,
      algorithms: config.JWT_ALGORITHMS,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    },
  });
  await app.register(metricsPlugin, { redisPrefix: config.REDIS_PREFIX });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Crowncast presence',
        version: '0.1.0',
        description: 'Who is online, where, and for how long.',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const store = createPresenceStore({
    redis: app.redis,
    prefix: config.REDIS_PREFIX,
    clock: now,
    timings: {
      idleMs: config.IDLE_AFTER_MS,
      awayMs: config.AWAY_AFTER_MS,
      roomWindowMs: config.ROOM_WINDOW_MS,
      framesPerWindow: config.ROOM_FRAMES_PER_WINDOW,
      missedHeartbeats: config.EDGE_MISSED_HEARTBEATS,
      defaultHeartbeatMs: config.DEFAULT_HEARTBEAT_MS,
      tombstoneMs: config.TOMBSTONE_MS,
    },
  });
  await store.load();
  const graced = await store.graceDeadEdges();
  if (graced) app.log.info({ edges: graced }, 'edges past their deadline get one more lease after a restart');
  // After a Redis restart the script cache is empty: load again before messages flow.
  app.redis.on('ready', () => void store.load().catch(() => {}));

  await app.register(healthRoutes);
  await app.register(presenceRoutes, { store });

  const publisher = createPublisher({
    nc: app.nats,
    js: app.js,
    prefix: config.SUBJECT_PREFIX,
    log: app.log.child({ component: 'publisher' }),
    metrics: app.metrics,
    publishUserStatus: config.PUBLISH_USER_STATUS,
    roomsOnline: (rooms) => store.roomsOnline(rooms),
  });
  const deps = { store, publisher, metrics: app.metrics, clock: now };
  const consumer = startConsumer({
    ...deps,
    nc: app.nats,
    prefix: config.SUBJECT_PREFIX,
    log: app.log.child({ component: 'consumer' }),
  });
  // The server has the subscription before the app is ready: a notice an edge sends the moment this
  // process is up (core NATS, fire and forget) is not dropped for want of a subscriber.
  await app.nats.flush();
  const sweeper = startSweeper({
    ...deps,
    log: app.log.child({ component: 'sweeper' }),
    tickMs: config.TICK_MS,
  });
  // Hooks run in reverse order of registration: this runs before the NATS and Redis teardown.
  app.addHook('onClose', async () => {
    await consumer.stop();
    await sweeper.stop();
  });
  return app;
}
