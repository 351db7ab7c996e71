import { loggerOptions } from '@crowncast/logger';
import type { FastifyRequest } from 'fastify';
import { buildApp } from './app.js';
import { loadEdgeConfig } from './config.js';

/** The edge process: config, logger, listen, and a bounded graceful drain on SIGTERM/SIGINT. */
async function main() {
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
  await app.listen({ port: config.PORT, host: config.HOST });
  app.log.info({ edgeId: config.EDGE_ID }, 'edge ready');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal, connections: app.gateway.size() }, 'draining');
    const timer = setTimeout(() => {
      app.log.error('shutdown timed out');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    await app.gateway.drain(Math.min(config.DRAIN_SPREAD_MS, Math.max(0, config.SHUTDOWN_TIMEOUT_MS - 1000)));
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
