import { hostname } from 'node:os';
import { commonEnv, env, jwtEnv, loadConfig } from '@crowncast/config';
import { z } from 'zod';

const defaultEdgeId = () => `edge-${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);

export const EdgeEnv = z.object({
  ...commonEnv,
  ...jwtEnv,
  PORT: env.port(3001),
  /** Names this process in presence and analytics subjects; unique per edge. */
  EDGE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'EDGE_ID is 1-64 characters of A-Z, a-z, 0-9, _ and -')
    .default(defaultEdgeId),
  /** Browser Origins allowed to connect; empty allows any (clients without Origin always pass). */
  ALLOWED_ORIGINS: env.list([]),
  /**
   * An HTTP request (a WebSocket upgrade included) whose headers are not complete after this long is
   * cut (slowloris); checked every second.
   */
  WS_HANDSHAKE_TIMEOUT_MS: env.int(10_000, 1000, 120_000),
  WS_LISTEN_BACKLOG: env.int(4096, 16, 65_535),
  /** Largest inbound frame, bytes (bigger ones close with 1009). */
  WS_MAX_FRAME_BYTES: env.int(16 * 1024, 128, 1024 * 1024),
  /** Client messages per minute per connection (more closes with 4008). */
  WS_MAX_MESSAGES_PER_MIN: env.int(120, 1),
  /** Connections per user on this edge (more closes with 4005). */
  WS_MAX_CONNECTIONS_PER_USER: env.int(10, 1),
  /** Rooms per connection, the two automatic ones included. */
  WS_MAX_ROOMS_PER_CONNECTION: env.int(100, 2, 10_000),
  /** A socket whose unsent bytes exceed this is closed with 4009 (slow consumer). */
  WS_SEND_BUFFER_MAX_BYTES: env.int(1024 * 1024, 1024),
  /** A socket whose oldest unsent data is older than this, ms, is closed with 4009 (slow consumer). */
  WS_SEND_MAX_LAG_MS: env.int(5000, 100),
  /** Protocol ping interval; a socket that misses a pong for one interval is terminated. */
  HEARTBEAT_INTERVAL_MS: env.int(25_000, 50),
  /** Coalescing window for busy rooms, ms (0 sends every event in its own frame). */
  BATCH_WINDOW_MS: env.int(10, 0, 50),
  /** Most events in one batch frame. */
  BATCH_MAX_EVENTS: env.int(100, 1, 1000),
  /** Membership answers are cached this long, ms. */
  MEMBERSHIP_CACHE_MS: env.int(5000, 0),
  /** How long to wait for the ledger's membership answer, ms. */
  MEMBERSHIP_TIMEOUT_MS: env.int(2000, 50),
  /** Presence heartbeat interval, ms. */
  PRESENCE_INTERVAL_MS: env.int(5000, 50),
  /** Delivery reports and animation plays are flushed this often, ms. */
  ANALYTICS_FLUSH_MS: env.int(1000, 10),
  /** Most events replayed on one join; more gets resync:required. */
  REPLAY_MAX_EVENTS: env.int(5000, 1),
  /** On SIGTERM, clients are closed at random moments within this window (spreads reconnects). */
  DRAIN_SPREAD_MS: env.int(5000, 0),
});
export type EdgeConfig = z.infer<typeof EdgeEnv>;

export function loadEdgeConfig(source: NodeJS.ProcessEnv = process.env): Readonly<EdgeConfig> {
  return loadConfig(EdgeEnv, source);
}
