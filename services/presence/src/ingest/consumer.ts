import { PresenceConnectionNotice, PresenceHeartbeat } from '@crowncast/protocol';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Outcome } from '../domain/records.js';
import type { PresenceMetrics } from '../plugins/metrics.js';
import type { Publisher } from '../publish/publisher.js';
import type { PresenceStore } from '../store/presence-store.js';

export interface ConsumerDeps {
  nc: NatsConnection;
  prefix: string;
  store: PresenceStore;
  publisher: Publisher;
  metrics: PresenceMetrics;
  log: Logger;
  clock: () => number;
}

/** Replicas share the edges' messages: NATS hands each one to a single member of the group. */
export const QUEUE_GROUP = 'presence';

type Kind = 'heartbeat' | 'connect' | 'disconnect' | 'rooms' | 'activity';
const KINDS = new Set<string>(['heartbeat', 'connect', 'disconnect', 'rooms', 'activity']);

/**
 * Reads `<prefix>presence.>`. Every message is validated; a bad one is dropped and counted, never
 * thrown. The Redis call is issued synchronously in the callback so one edge's messages reach Redis
 * in the order NATS delivered them.
 */
export function startConsumer(d: ConsumerDeps): { stop(): Promise<void> } {
  const inflight = new Set<Promise<void>>();
  const drop = (reason: string, subject: string) => {
    d.metrics.dropped.inc({ reason });
    d.log.debug({ subject, reason }, 'presence message dropped');
  };

  const handle = (msg: Msg): void => {
    const parts = msg.subject.slice(d.prefix.length).split('.');
    // presence.changes and presence.online are what presence itself publishes under the same root.
    if (parts.length === 2 && (parts[1] === 'changes' || parts[1] === 'online')) return;
    const kind = parts[1];
    const edgeId = parts[2];
    if (parts.length !== 3 || !kind || !KINDS.has(kind)) {
      drop('unknown_subject', msg.subject);
      return;
    }
    let body: unknown;
    try {
      body = msg.json();
    } catch {
      drop('invalid_json', msg.subject);
      return;
    }
    const work = dispatch(kind as Kind, body);
    if (work === 'invalid') {
      drop('invalid_schema', msg.subject);
      return;
    }
    if (work.edgeId !== edgeId) {
      drop('edge_mismatch', msg.subject);
      return;
    }
    d.metrics.messages.inc({ kind });
    const t0 = performance.now();
    const p = work
      .run()
      .then(async (o) => {
        d.metrics.scriptSeconds.observe({ script: kind }, (performance.now() - t0) / 1000);
        d.metrics.heartbeatConnections.inc(work.connections);
        await d.publisher.publish(o, d.clock());
      })
      .catch((err: Error) => {
        d.metrics.redisErrors.inc();
        d.log.warn({ err: err.message, kind, edgeId }, 'presence message not applied');
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };

  function dispatch(kind: Kind, body: unknown) {
    if (kind === 'heartbeat') {
      const hb = PresenceHeartbeat.safeParse(body);
      if (!hb.success) return 'invalid' as const;
      if (hb.data.chunk >= hb.data.chunks) return 'invalid' as const;
      return {
        edgeId: hb.data.edgeId,
        connections: hb.data.connections.length,
        run: (): Promise<Outcome> => d.store.heartbeat(hb.data),
      };
    }
    const n = PresenceConnectionNotice.safeParse(body);
    if (!n.success) return 'invalid' as const;
    const run = kind === 'disconnect' ? () => d.store.disconnect(n.data) : () => d.store.notice(n.data);
    return { edgeId: n.data.edgeId, connections: 0, run };
  }

  const sub: Subscription = d.nc.subscribe(`${d.prefix}presence.>`, {
    queue: QUEUE_GROUP,
    callback: (err, msg) => {
      if (err) d.log.warn({ err: err.message }, 'presence subscription error');
      else handle(msg);
    },
  });

  return {
    async stop() {
      await sub.drain().catch(() => sub.unsubscribe());
      await Promise.allSettled([...inflight]);
    },
  };
}
