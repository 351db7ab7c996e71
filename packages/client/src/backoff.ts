/** Reconnect delays: "full jitter" exponential backoff (each client waits a random time in a window
 * that doubles per failed attempt), so a fleet of clients that lost the same edge spreads out. */
export interface BackoffOptions {
  /** Upper bound of the first window, ms. Default 500. */
  baseMs: number;
  /** Largest window, ms: no wait is ever longer. Default 20_000. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 20_000 };

/**
 * The wait before reconnect attempt `attempt` (0 for the first after a loss): uniform in
 * [0, min(maxMs, baseMs * 2^attempt)]. `random` returns [0, 1) like Math.random.
 */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random = Math.random,
): number {
  const window = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * window);
}
