import { exposeMetrics } from '@crowncast/service';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface EdgeMetrics {
  registry: Registry;
  connections: Gauge;
  rooms: Gauge;
  framesIn: Counter;
  framesOut: Counter<'kind'>;
  framesBuilt: Counter<'encoding'>;
  slowConsumers: Counter;
  invalidEnvelopes: Counter<'reason'>;
  deliveryLatency: Histogram;
  replays: Counter<'result'>;
  replayedEvents: Counter;
  closes: Counter<'code'>;
  clientErrors: Counter<'code'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: EdgeMetrics;
  }
}

export function createEdgeMetrics(): EdgeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'crowncast_edge_' });
  const registers = [registry];
  return {
    registry,
    connections: new Gauge({
      name: 'crowncast_edge_connections',
      help: 'Open client connections',
      registers,
    }),
    rooms: new Gauge({
      name: 'crowncast_edge_rooms',
      help: 'Rooms with at least one local member (= live NATS subscriptions)',
      registers,
    }),
    framesIn: new Counter({
      name: 'crowncast_edge_frames_in_total',
      help: 'Client frames received',
      registers,
    }),
    framesOut: new Counter({
      name: 'crowncast_edge_frames_out_total',
      help: 'Frames written to sockets (room = event or batch, control = everything else)',
      labelNames: ['kind'],
      registers,
    }),
    framesBuilt: new Counter({
      name: 'crowncast_edge_frames_built_total',
      help: 'Room frames serialised and framed (once per event or batch per encoding, whatever the members)',
      labelNames: ['encoding'],
      registers,
    }),
    slowConsumers: new Counter({
      name: 'crowncast_edge_slow_consumers_total',
      help: 'Sockets closed because their send buffer exceeded the bound',
      registers,
    }),
    invalidEnvelopes: new Counter({
      name: 'crowncast_edge_invalid_envelopes_total',
      help: 'Room messages dropped because they are not a valid envelope',
      labelNames: ['reason'],
      registers,
    }),
    deliveryLatency: new Histogram({
      name: 'crowncast_edge_delivery_latency_seconds',
      help: 'Event timestamp to the write to member sockets',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    replays: new Counter({
      name: 'crowncast_edge_replays_total',
      help: 'Joins with lastSeq, by result (replayed, resync)',
      labelNames: ['result'],
      registers,
    }),
    replayedEvents: new Counter({
      name: 'crowncast_edge_replayed_events_total',
      help: 'Events sent from the stream on join',
      registers,
    }),
    closes: new Counter({
      name: 'crowncast_edge_closes_total',
      help: 'Connections closed by the edge, by close code',
      labelNames: ['code'],
      registers,
    }),
    clientErrors: new Counter({
      name: 'crowncast_edge_client_errors_total',
      help: 'error frames sent to clients, by code',
      labelNames: ['code'],
      registers,
    }),
  };
}

/** Prometheus metrics on GET /metrics; a registry per app so tests can build several. */
export default fp(
  async (app) => {
    const metrics = createEdgeMetrics();
    app.decorate('metrics', metrics);
    exposeMetrics(app, metrics.registry, 'crowncast_edge_');
  },
  { name: 'metrics' },
);
