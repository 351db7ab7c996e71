import { exposeMetrics } from '@crowncast/service';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { outboxLag } from '../outbox/relay.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: {
      registry: Registry;
      giftBatch: Histogram;
      giftBatchSeconds: Histogram;
      published: Counter;
      relayActive: Gauge;
    };
  }
}

/** Prometheus metrics on GET /metrics; a registry per app so tests can build several. */
export default fp(
  async (app) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'crowncast_ledger_' });
    const metrics = {
      registry,
      giftBatch: new Histogram({
        name: 'crowncast_ledger_gift_batch_size',
        help: 'Gifts per committed transaction',
        buckets: [1, 2, 5, 10, 20, 50, 100, 200],
        registers: [registry],
      }),
      giftBatchSeconds: new Histogram({
        name: 'crowncast_ledger_gift_batch_seconds',
        help: 'Time to commit one gift batch',
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
        registers: [registry],
      }),
      published: new Counter({
        name: 'crowncast_ledger_outbox_published_total',
        help: 'Events published to JetStream',
        registers: [registry],
      }),
      relayActive: new Gauge({
        name: 'crowncast_ledger_relay_active',
        help: '1 while this replica runs the outbox relay',
        registers: [registry],
      }),
    };
    new Gauge({
      name: 'crowncast_ledger_outbox_pending',
      help: 'Committed events not yet published',
      registers: [registry],
      async collect() {
        this.set((await outboxLag(app.sql).catch(() => ({ pending: -1 }))).pending);
      },
    });
    new Gauge({
      name: 'crowncast_ledger_outbox_oldest_seconds',
      help: 'Age of the oldest unpublished event (outbox lag)',
      registers: [registry],
      async collect() {
        this.set((await outboxLag(app.sql).catch(() => ({ oldestAgeSec: -1 }))).oldestAgeSec);
      },
    });
    app.decorate('metrics', metrics);
    exposeMetrics(app, registry, 'crowncast_ledger_');
  },
  { name: 'metrics', dependencies: ['postgres'] },
);
