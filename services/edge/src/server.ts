import { loggerOptions } from '@crowncast/logger';
import { run, serve } from '@crowncast/service';
import type { FastifyRequest } from 'fastify';
import { buildApp } from './app.js';
import { loadEdgeConfig } from './config.js';

/** The edge process: config, logger, listen, and on SIGTERM/SIGINT a bounded drain of its sockets. */
run(async () => {
  const config = loadEdgeConfig();
  const app = await buildApp({
    config,
    fastify: {
      logger: {
        ...loggerOptions({ level: config.LOG_LEVEL, name: 'edge' }),
        // Browsers pass the token in ?token=: keep it out of request logs.
        serializers: {
          req: (req: FastifyRequest) => ({
            method: req.method,
            url: req.url.replace(/([?&]token=)[^&]*/i, '$1[redacted]'),
            remoteAddress: req.ip,
          }),
        },
      },
      requestIdHeader: 'x-request-id',
    },
  });
  await serve(app, {
    port: config.PORT,
    host: config.HOST,
    // A reconnect storm (another edge drained, a network blip) arrives faster than connections are
    // accepted: queue it in the kernel instead of dropping SYNs that clients retry seconds later.
    backlog: config.WS_LISTEN_BACKLOG,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    beforeClose: async () => {
      app.log.info({ edgeId: config.EDGE_ID, connections: app.gateway.size() }, 'draining');
      await app.gateway.drain(
        Math.min(config.DRAIN_SPREAD_MS, Math.max(0, config.SHUTDOWN_TIMEOUT_MS - 1000)),
      );
    },
  });
  app.log.info({ edgeId: config.EDGE_ID }, 'edge ready');
});
