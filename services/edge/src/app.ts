import { createTokenVerifier } from '@crowncast/auth';
import websocket, { type WebsocketPluginOptions } from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { createAnalytics } from './analytics.js';
import type { EdgeConfig } from './config.js';
import { createGateway, type Gateway } from './conn/gateway.js';
import { EdgeSocket } from './conn/socket.js';
import { createHub } from './fanout/hub.js';
import { headSeq, type ReplayDeps } from './fanout/replay.js';
import { createMembership } from './membership.js';
import metricsPlugin from './plugins/metrics.js';
import natsPlugin from './plugins/nats.js';
import { createPresence } from './presence.js';
import { healthRoutes } from './routes/health.js';
import { wsRoutes } from './routes/ws.js';

declare module 'fastify' {
  interface FastifyInstance {
    gateway: Gateway;
  }
}

export interface BuildOptions {
  config: Readonly<EdgeConfig>;
  fastify?: FastifyServerOptions;
}

/** The WebSocket class option as @fastify/websocket types it. */
type WsClass = NonNullable<NonNullable<WebsocketPluginOptions['options']>['WebSocket']>;

/** The edge app. It never listens: server.ts does, tests listen on port 0. */
export async function buildApp({ config, fastify = {} }: BuildOptions): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: 16 * 1024,
    // Unfinished upgrades (slowloris) hold a descriptor until Node's header timeout, checked at this
    // interval: by default 60 s, checked every 30 s.
    http: {
      headersTimeout: config.WS_HANDSHAKE_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(1000, config.WS_HANDSHAKE_TIMEOUT_MS),
    },
    ...fastify,
  });
  const prefix = config.SUBJECT_PREFIX;

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'unhandled error');
    return reply.status(status).send({
      success: false,
      error: {
        code: status === 500 ? 'EDGE_INTERNAL' : 'EDGE_BAD_REQUEST',
        message: status === 500 ? 'internal error' : err.message,
      },
    });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({
      success: false,
      error: { code: 'EDGE_ROUTE_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` },
    }),
  );

  await app.register(metricsPlugin);
  await app.register(natsPlugin, { url: config.NATS_URL, name: `crowncast-edge-${config.EDGE_ID}` });
  let gateway: Gateway | undefined;
  await app.register(websocket, {
    options: {
      maxPayload: config.WS_MAX_FRAME_BYTES,
      // Compression would make every frame per-socket work again; frames are built once instead.
      perMessageDeflate: false,
      handleProtocols: (protocols) => {
        for (const p of ['crowncast.msgpack', 'crowncast.json']) if (protocols.has(p)) return p;
        return false;
      },
      // The gateway keeps every socket it accepted; ws's own client set would be a second entry and
      // a close listener (a closure) per socket.
      clientTracking: false,
      // Inbound events go straight to the connection (conn/socket.ts), not through a listener each.
      // (ws's types ask for the class's statics too, which a subclass inherits at run time.)
      WebSocket: EdgeSocket as unknown as WsClass,
    },
    // The gateway closes sockets itself (drain) with its codes; what is left by now (a close
    // handshake a stuck client never finished) is cut, or the HTTP server would wait for it.
    preClose(done) {
      gateway?.close();
      done();
    },
  });

  const verify = createTokenVerifier({
    secret: config.JWT_SECRET,
    jwksUrl: config.JWT_JWKS_URL,
    algorithms: config.JWT_ALGORITHMS,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    // A socket verifies its token once (and on auth:refresh); a cache of verified tokens pays off
    // for REST, where every request carries one, but here it would only hold each connection's
    // token and claims a second time (~400 bytes a connection).
    cacheSize: 0,
  });
  const log = app.log.child({ component: 'gateway' });
  const analytics = createAnalytics({
    nc: app.nats,
    prefix,
    edgeId: config.EDGE_ID,
    flushMs: config.ANALYTICS_FLUSH_MS,
  });
  const replay: ReplayDeps = {
    js: app.js,
    jsm: app.jsm,
    stream: config.ROOMS_STREAM,
    prefix,
    maxEvents: config.REPLAY_MAX_EVENTS,
    onInvalid: (reason) => app.metrics.invalidEnvelopes.inc({ reason }),
  };
  const hub = createHub({
    nc: app.nats,
    prefix,
    metrics: app.metrics,
    batchWindowMs: config.BATCH_WINDOW_MS,
    batchMaxEvents: config.BATCH_MAX_EVENTS,
    onDelivered: analytics.delivered,
    onError: (err) => log.warn({ err: err.message }, 'room subscription error'),
    readHead: (room) => headSeq(replay, room),
  });
  const membership = createMembership({
    nc: app.nats,
    prefix,
    cacheMs: config.MEMBERSHIP_CACHE_MS,
    timeoutMs: config.MEMBERSHIP_TIMEOUT_MS,
    onRevoked: (userId, room) => gateway?.revoke(userId, room),
    onError: (err) => log.warn({ err: err.message }, 'membership notices failed'),
  });
  const presence = createPresence({
    nc: app.nats,
    prefix,
    edgeId: config.EDGE_ID,
    intervalMs: config.PRESENCE_INTERVAL_MS,
    connections: () => gateway?.connections() ?? [],
  });
  gateway = createGateway(
    {
      hub,
      membership,
      presence,
      analytics,
      verify,
      metrics: app.metrics,
      maxRooms: config.WS_MAX_ROOMS_PER_CONNECTION,
      replay,
    },
    {
      edgeId: config.EDGE_ID,
      heartbeatIntervalMs: config.HEARTBEAT_INTERVAL_MS,
      maxConnectionsPerUser: config.WS_MAX_CONNECTIONS_PER_USER,
      sendBufferMaxBytes: config.WS_SEND_BUFFER_MAX_BYTES,
      sendMaxLagMs: config.WS_SEND_MAX_LAG_MS,
      messagesPerMin: config.WS_MAX_MESSAGES_PER_MIN,
      log,
    },
  );
  app.decorate('gateway', gateway);

  // Runs before the NATS plugin's teardown (hooks run in reverse order): last reports go out first.
  app.addHook('onClose', async () => {
    gateway.close();
    presence.close();
    membership.close();
    hub.close();
    analytics.close();
  });

  const g = gateway;
  await app.register(healthRoutes, { draining: () => g.draining });
  await app.register(wsRoutes, { gateway: g, verify, allowedOrigins: config.ALLOWED_ORIGINS });
  return app;
}
