import { loggerOptions } from '@crowncast/logger';
import { run, serve } from '@crowncast/service';
import { buildApp } from './app.js';
import { loadLedgerConfig } from './config.js';

/** The ledger process: config, logger, listen, and a bounded graceful shutdown on SIGTERM/SIGINT. */
run(async () => {
  const config = loadLedgerConfig();
  const app = await buildApp({
    config,
    fastify: {
      logger: loggerOptions({ level: config.LOG_LEVEL, name: 'ledger' }),
      requestIdHeader: 'x-request-id',
    },
  });
  await serve(app, { port: config.PORT, host: config.HOST, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS });
});
