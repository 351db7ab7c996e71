import { commonEnv, env, jwtEnv, loadConfig, redisEnv } from '@crowncast/config';
import { z } from 'zod';

export const PresenceEnv = z
  .object({
    ...commonEnv,
    ...redisEnv,
    ...jwtEnv,
    PORT: env.port(3002),
    /** No client activity for this long: online → idle. */
    IDLE_AFTER_MS: env.int(5 * 60_000, 1),
    /** No client activity for this long: idle → away. */
    AWAY_AFTER_MS: env.int(15 * 60_000, 1),
    /**
     * An edge is dead after this many of its own heartbeat intervals without a heartbeat; a
     * connection an edge stops listing is dropped after the same number of intervals.
     */
    EDGE_MISSED_HEARTBEATS: env.int(3, 1, 100),
    /** Heartbeat interval assumed for an edge known only from connect notices so far. */
    DEFAULT_HEARTBEAT_MS: env.int(10_000, 10),
    /** How often each replica runs the sweeper (status timers, dead edges, room frames). */
    TICK_MS: env.int(250, 10, 60_000),
    /** A room gets at most ROOM_FRAMES_PER_WINDOW presence frames per window of this length. */
    ROOM_WINDOW_MS: env.int(1000, 10, 60_000),
    ROOM_FRAMES_PER_WINDOW: env.int(20, 1, 10_000),
    /** A closed connection is remembered this long so a late heartbeat cannot resurrect it. */
    TOMBSTONE_MS: env.int(120_000, 1000),
    /** Publish `presence:status` into room.user.<id> on every status change. */
    PUBLISH_USER_STATUS: env.bool(true),
    /** Test-only: shifts this process's clock (idle/away timers, edge expiry). */
    CLOCK_OFFSET_MS: z.coerce.number().int().default(0),
  })
  .refine((c) => c.AWAY_AFTER_MS > c.IDLE_AFTER_MS, {
    message: 'AWAY_AFTER_MS must be greater than IDLE_AFTER_MS',
    path: ['AWAY_AFTER_MS'],
  });
export type PresenceConfig = z.infer<typeof PresenceEnv>;

export function loadPresenceConfig(source: NodeJS.ProcessEnv = process.env): Readonly<PresenceConfig> {
  return loadConfig(PresenceEnv, source);
}
