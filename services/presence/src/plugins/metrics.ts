import { exposeMetrics } from '@crowncast/service';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface PresenceMetrics {
  registry: Registry;
  messages: Counter<'kind'>;
  dropped: Counter<'reason'>;
  heartbeatConnections: Counter;
  published: Counter<'type'>;
  coalesced: Counter;
  publishFailures: Counter;
  statusChanges: Counter<'status'>;
  edgesExpired: Counter;
  redisErrors: Counter;
  scriptSeconds: Histogram<'script'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: PresenceMetrics;
  }
}

const P = 'crowncast_presence_';

/** Prometheus metrics on GET /metrics; a registry per app so tests can build several. */
export default fp<{ redisPrefix: string }>(
  async (app, opts) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: P });
    const registers = [registry];
    const metrics: PresenceMetrics = {
      registry,
      messages: new Counter({
        name: `${P}messages_total`,
        help: 'Valid edge messages processed, by kind',
        labelNames: ['kind'],
        registers,
      }),
      dropped: new Counter({
        name: `${P}messages_dropped_total`,
        help: 'Edge messages dropped because they are malformed, by reason',
        labelNames: ['reason'],
        registers,
      }),
      heartbeatConnections: new Counter({
        name: `${P}heartbeat_connections_total`,
        help: 'Connections listed in processed heartbeats',
        registers,
      }),
      published: new Counter({
        name: `${P}events_published_total`,
        help: 'Presence events published, by type',
        labelNames: ['type'],
        registers,
      }),
      coalesced: new Counter({
        name: `${P}frames_coalesced_total`,
        help: 'Member connected/disconnected frames left out of a room over its per-window budget',
        registers,
      }),
      publishFailures: new Counter({
        name: `${P}publish_failures_total`,
        help: 'Presence events that could not be published after retries',
        registers,
      }),
      statusChanges: new Counter({
        name: `${P}status_changes_total`,
        help: 'User status changes, by new status',
        labelNames: ['status'],
        registers,
      }),
      edgesExpired: new Counter({
        name: `${P}edges_expired_total`,
        help: 'Edges declared dead after missing heartbeats',
        registers,
      }),
      redisErrors: new Counter({
        name: `${P}redis_errors_total`,
        help: 'Messages or sweeps that failed on Redis',
        registers,
      }),
      scriptSeconds: new Histogram({
        name: `${P}script_seconds`,
        help: 'Time of one presence script round trip',
        labelNames: ['script'],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
        registers,
      }),
    };
    new Gauge({
      name: `${P}online_users`,
      help: 'Users with at least one connection',
      registers,
      async collect() {
        this.set(await app.redis.scard(`${opts.redisPrefix}online`).catch(() => -1));
      },
    });
    app.decorate('metrics', metrics);
    exposeMetrics(app, registry, P);
  },
  { name: 'metrics', dependencies: ['redis'] },
);
