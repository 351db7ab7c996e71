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
import type { LedgerConfig } from './config.js';
import { migrate } from './db/migrate.js';
import { createGiftService } from './gifts/service.js';
import { createAckedPublisher } from './outbox/acks.js';
import { startRelay } from './outbox/relay.js';
import analyticsPlugin from './plugins/analytics.js';
import authPlugin from './plugins/auth.js';
import inputGuard from './plugins/input-guard.js';
import membershipPlugin from './plugins/membership.js';
import metricsPlugin from './plugins/metrics.js';
import natsPlugin from './plugins/nats.js';
import postgresPlugin from './plugins/postgres.js';
import presenceCounts from './plugins/presence-counts.js';
import { accountRoutes } from './routes/account.js';
import { adminRoutes } from './routes/admin.js';
import { giftRoutes } from './routes/gifts.js';
import { healthRoutes } from './routes/health.js';

export interface BuildOptions {
  config: Readonly<LedgerConfig>;
  fastify?: FastifyServerOptions;
}

/** The ledger app. It never listens: server.ts does, tests use inject() or listen on port 0. */
export async function buildApp({ config, fastify = {} }: BuildOptions): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: 64 * 1024, ...fastify }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const notifyChannel = `crowncast_outbox_${config.DATABASE_SCHEMA}`;

  await app.register(errorHandler, {
    prefix: 'LEDGER',
    unavailable: 'a dependency is unavailable; retry with the same Idempotency-Key',
  });
  await app.register(inputGuard);
  await allowOrigins(app, config.CORS_ORIGINS);
  await app.register(postgresPlugin, {
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    max: config.DATABASE_POOL_MAX,
    timeoutSec: Math.ceil(config.SHUTDOWN_TIMEOUT_MS / 1000),
  });
  if (config.MIGRATE_ON_START) {
    const applied = await migrate(app.sql, config.DATABASE_SCHEMA);
    if (applied.length) app.log.info({ applied }, 'migrations applied');
  }
  await app.register(redisPlugin, { url: config.REDIS_URL, connectionName: 'crowncast-ledger' });
  await app.register(natsPlugin, {
    url: config.NATS_URL,
    prefix: config.SUBJECT_PREFIX,
    stream: config.ROOMS_STREAM,
    maxMsgsPerSubject: config.ROOMS_MAX_MSGS_PER_SUBJECT,
    maxAgeMs: config.ROOMS_MAX_AGE_S * 1000,
    duplicateWindowMs: config.ROOMS_DUPLICATE_WINDOW_S * 1000,
    replicas: config.ROOMS_REPLICAS,
  });
  await app.register(authPlugin, {
    adminToken: config.ADMIN_TOKEN,
    verifier: {
      secret: config.JWT_SECRET,
      jwksUrl: config.JWT_JWKS_URL,
      algorithms: config.JWT_ALGORITHMS,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    },
  });
  await app.register(metricsPlugin);
  await app.register(membershipPlugin, { prefix: config.SUBJECT_PREFIX });
  await app.register(analyticsPlugin, { prefix: config.SUBJECT_PREFIX, flushMs: config.ANALYTICS_FLUSH_MS });
  await app.register(presenceCounts, { prefix: config.SUBJECT_PREFIX });
  // The server has those subscriptions before the app is ready: a membership request or delivery
  // report sent the moment this process is up is not dropped for want of a subscriber.
  await app.nats.flush();
  await app.register(swagger, {
    openapi: {
      info: { title: 'Crowncast ledger', version: '0.1.0', description: 'Crowns, gifts and their events.' },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          adminToken: { type: 'apiKey', in: 'header', name: 'x-admin-token' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const gifts = createGiftService({
    sql: app.sql,
    redis: app.redis,
    limits: {
      maxQuantity: config.GIFT_MAX_QUANTITY,
      messageMax: config.GIFT_MESSAGE_MAX,
      legendaryThreshold: config.LEGENDARY_THRESHOLD,
    },
    ratePerMin: config.GIFT_RATE_LIMIT_PER_MIN,
    spamSamePerMin: config.GIFT_SPAM_SAME_PER_MIN,
    redisPrefix: config.REDIS_PREFIX,
    batchMax: config.BATCH_MAX,
    batchConcurrency: config.BATCH_CONCURRENCY,
    notifyChannel,
    onBatch: (size, ms) => {
      app.metrics.giftBatch.observe(size);
      app.metrics.giftBatchSeconds.observe(ms / 1000);
    },
  });

  await app.register(healthRoutes);
  await app.register(giftRoutes, { gifts });
  await app.register(accountRoutes);
  await app.register(adminRoutes, { notifyChannel, onMembershipChange: app.announceMembership });

  if (config.RELAY_ENABLED) {
    const publisher = createAckedPublisher(app.nats);
    const r = startRelay({
      sql: app.sql,
      publisher,
      ackTimeoutMs: 5000,
      log: app.log.child({ component: 'outbox-relay' }),
      schema: config.DATABASE_SCHEMA,
      prefix: config.SUBJECT_PREFIX,
      channel: notifyChannel,
      batch: config.RELAY_BATCH,
      pollMs: config.RELAY_POLL_MS,
      retentionHours: config.RETENTION_HOURS,
      onPublished: (n) => app.metrics.published.inc(n),
    });
    const gauge = setInterval(() => app.metrics.relayActive.set(r.active ? 1 : 0), 1000);
    gauge.unref();
    // Hooks run in reverse order of registration: this runs before the NATS and PostgreSQL teardown.
    app.addHook('onClose', async () => {
      clearInterval(gauge);
      await gifts.drained();
      await r.stop();
      publisher.close();
    });
  } else {
    app.addHook('onClose', async () => gifts.drained());
  }
  return app;
}
