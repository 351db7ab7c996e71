import { type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import type { WebSocketConstructor } from './socket.js';

/** Options of `connect()`. Only `url` and `getToken` are required. */
export interface ConnectOptions {
  /** The edge's socket URL, e.g. `wss://edge.example.com/ws`. Required. */
  url: string;
  /**
   * Returns a JWT for the user (`sub` = user id). Called before every (re)connect and again
   * `refreshBeforeMs` before the token expires (sent in-band as `auth:refresh`). Required.
   */
  getToken: () => string | Promise<string>;
  /** WebSocket class. Default: `globalThis.WebSocket` (browsers, React Native, Node ≥ 22); on Node 20 pass `ws`. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect backoff (full jitter): attempt n waits uniformly in [0, min(maxMs, baseMs·2ⁿ)]. Default `{ baseMs: 500, maxMs: 20000 }`. */
  backoff?: Partial<BackoffOptions>;
  /** How often to send an application `ping` (round trip, quality, clock offset), ms. Default 10000. */
  pingIntervalMs?: number;
  /** No pong within this: the link is dead; the socket is dropped and reopened, ms. Default 5000. */
  pongTimeoutMs?: number;
  /** Open + `connected` must take less than this, or the attempt is abandoned, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** A request without a reply within this fails with `REQUEST_TIMEOUT`, ms. Default 10000. */
  requestTimeoutMs?: number;
  /** Refresh the token this long before it expires, ms. Default 30000. */
  refreshBeforeMs?: number;
  /** Requests that may wait while disconnected; beyond it the oldest fails with `QUEUE_FULL`. Default 50. */
  maxQueuedRequests?: number;
  /** Event ids remembered to never hand the app the same event twice. Default 2000. */
  dedupWindow?: number;
  /** Clock and timers (tests). Default: the real ones. */
  clock?: Clock;
  /** Random source for the backoff, [0, 1). Default `Math.random`. */
  random?: () => number;
}

export type ResolvedOptions = Required<Omit<ConnectOptions, 'WebSocket' | 'backoff'>> & {
  WebSocket: WebSocketConstructor;
  backoff: BackoffOptions;
};

export function resolveOptions(o: ConnectOptions): ResolvedOptions {
  const Ws = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Ws) throw new TypeError('no WebSocket implementation: pass { WebSocket } (e.g. from the ws package)');
  return {
    pingIntervalMs: 10_000,
    pongTimeoutMs: 5_000,
    connectTimeoutMs: 10_000,
    requestTimeoutMs: 10_000,
    refreshBeforeMs: 30_000,
    maxQueuedRequests: 50,
    dedupWindow: 2_000,
    clock: systemClock,
    random: Math.random,
    ...stripUndefined(o),
    WebSocket: Ws,
    backoff: { ...DEFAULT_BACKOFF, ...stripUndefined(o.backoff ?? {}) },
  };
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
