import { loggerOptions } from '@crowncast/logger';
import { buildApp } from './app.js';
import { loadPresenceConfig } from './config.js';

/** The presence process: config, logger, listen, and a bounded graceful shutdown on SIGTERM/SIGINT. */
async function main() {
  const config = loadPresenceConfig();
  const app = await buildApp({
    config,
    fastify: {
      logger: loggerOptions({ level: config.LOG_LEVEL, name: 'presence' }),
      requestIdHeader: 'x-request-id',
    },
  });
  await app.listen({ port: config.PORT, host: config.HOST });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      app.log.error('shutdown timed out');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
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
