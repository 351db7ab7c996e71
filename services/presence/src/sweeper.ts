import type { FastifyBaseLogger as Logger } from 'fastify';
import type { PresenceMetrics } from './plugins/metrics.js';
import type { Publisher } from './publish/publisher.js';
import type { PresenceStore } from './store/presence-store.js';

export interface SweeperDeps {
  store: PresenceStore;
  publisher: Publisher;
  metrics: PresenceMetrics;
  log: Logger;
  clock: () => number;
  tickMs: number;
}

/**
 * Runs the tick script every tickMs on every replica (the script claims each piece of work, so
 * replicas share it): idle/away timers, dead edges, and room frames that are due. When the script
 * says more work is waiting it runs again at once, so a dead edge of 10,000 connections drains in
 * a burst of short scripts rather than one long one.
 */
export function startSweeper(d: SweeperDeps): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const once = async (): Promise<boolean> => {
    try {
      const o = await d.store.tick();
      await d.publisher.publish(o, d.clock());
      return o.more;
    } catch (err) {
      d.metrics.redisErrors.inc();
      d.log.warn({ err: (err as Error).message }, 'presence sweep failed');
      return false;
    }
  };
  const loop = async () => {
    for (let i = 0; i < 100 && !stopped; i++) if (!(await once())) break;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = loop().finally(schedule);
    }, d.tickMs);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
