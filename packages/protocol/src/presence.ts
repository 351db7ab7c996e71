import { z } from 'zod';
import { Id, Room } from './ids.js';

/**
 * What edges tell the presence service, on `<prefix>presence.>`. Heartbeats are batched per edge
 * (never per socket) and chunked so one message stays well under NATS's 1 MB payload limit.
 */

export const PRESENCE_HEARTBEAT_MAX_CONNECTIONS = 2000;

export const PresenceConnection = z.object({
  connectionId: z.string().min(1).max(64),
  userId: Id,
  /** Rooms this connection has joined (its private and the global room are implied). */
  rooms: z.array(Room).max(200),
  /** Last client activity (any frame or an explicit presence:activity), epoch ms. */
  lastActivityAt: z.number().int().nonnegative(),
});
export type PresenceConnection = z.infer<typeof PresenceConnection>;

/** `<prefix>presence.heartbeat.<edgeId>`: every connection this edge holds, in chunks. */
export const PresenceHeartbeat = z.object({
  edgeId: z.string().min(1).max(64),
  /** Sent every intervalMs; presence expires an edge's connections after a few missed intervals. */
  intervalMs: z.number().int().positive(),
  sentAt: z.number().int().nonnegative(),
  chunk: z.number().int().nonnegative(),
  chunks: z.number().int().positive(),
  connections: z.array(PresenceConnection).max(PRESENCE_HEARTBEAT_MAX_CONNECTIONS),
});
export type PresenceHeartbeat = z.infer<typeof PresenceHeartbeat>;

/** `<prefix>presence.connect.<edgeId>` / `presence.disconnect.<edgeId>` / `presence.rooms.<edgeId>`. */
export const PresenceConnectionNotice = z.object({
  edgeId: z.string().min(1).max(64),
  at: z.number().int().nonnegative(),
  connection: PresenceConnection,
});
export type PresenceConnectionNotice = z.infer<typeof PresenceConnectionNotice>;

export const PresenceStatus = z.enum(['online', 'idle', 'away', 'offline']);
export type PresenceStatus = z.infer<typeof PresenceStatus>;

export function presenceSubject(
  kind: 'heartbeat' | 'connect' | 'disconnect' | 'rooms' | 'activity',
  edgeId: string,
  prefix = '',
): string {
  return `${prefix}presence.${kind}.${edgeId}`;
}
