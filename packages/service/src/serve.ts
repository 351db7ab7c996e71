import type { FastifyInstance } from 'fastify';

export interface ServeOptions {
  port: number;
  host: string;
  /**
   * Connections the kernel queues while the process has not accepted them yet (capped by
   * net.core.somaxconn). Node's default is 511; a burst beyond it loses SYNs, and a client whose
   * SYN was lost retries only after 1, 3, 7... seconds.
   */
  backlog?: number;
  /** Bound on the whole shutdown; past it the process exits 1. */
  shutdownTimeoutMs: number;
  /** Runs first on SIGTERM/SIGINT (the edge drains its sockets here). */
  beforeClose?: (app: FastifyInstance) => Promise<void>;
}

/**
 * What every service's server.ts does after building its app: listen, then on SIGTERM or SIGINT
 * shut down once, gracefully and within a bound (app.close() runs every plugin's teardown).
 */
export async function serve(app: FastifyInstance, o: ServeOptions): Promise<void> {
  await app.listen({ port: o.port, host: o.host, ...(o.backlog ? { backlog: o.backlog } : {}) });
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    setTimeout(() => {
      app.log.error('shutdown timed out');
      process.exit(1);
    }, o.shutdownTimeoutMs).unref();
    await o.beforeClose?.(app);
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** Runs a server entry's main; a failure to start (bad config, a dependency down) exits 1 with the reason. */
export function run(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
