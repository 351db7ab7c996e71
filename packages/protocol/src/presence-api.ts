import { z } from 'zod';
import { Id, Room } from './ids.js';
import { PresenceStatus } from './presence.js';

/**
 * What the presence service answers (REST) and announces (NATS `<prefix>presence.changes`).
 * The edge → presence input contract lives in presence.ts.
 */

const Timestamp = z.iso.datetime({ offset: true });

export const PresenceUser = z.object({
  userId: Id,
  status: PresenceStatus,
  /** Connections (devices, tabs) the user holds right now. */
  devices: z.number().int().nonnegative(),
  /** Last client activity seen on any device; null if never seen. */
  lastActiveAt: Timestamp.nullable(),
  /** When the last connection went away; while connected, the time of the answer. Null if never seen. */
  lastSeenAt: Timestamp.nullable(),
});
export type PresenceUser = z.infer<typeof PresenceUser>;

export const PresenceUserParams = z.object({ userId: Id });

export const PRESENCE_BATCH_MAX = 500;
export const PresenceUsersBatchBody = z.object({ userIds: z.array(Id).min(1).max(PRESENCE_BATCH_MAX) });
export type PresenceUsersBatchBody = z.infer<typeof PresenceUsersBatchBody>;
export const PresenceUsersBatch = z.object({ users: z.array(PresenceUser) });

export const PresenceRoomParams = z.object({ room: Room });
export const PresenceRoomQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** The nextCursor of the previous page (members are listed in user id order). */
  cursor: Id.optional(),
});
export const PresenceRoomMember = z.object({ userId: Id, status: PresenceStatus });
export const PresenceRoom = z.object({
  room: Room,
  /** Users with at least one connection in the room. */
  online: z.number().int().nonnegative(),
  members: z.array(PresenceRoomMember),
  nextCursor: Id.nullable(),
});
export type PresenceRoom = z.infer<typeof PresenceRoom>;

export const PresenceOnlineCount = z.object({
  /** Users with at least one connection (online, idle or away). */
  online: z.number().int().nonnegative(),
});

/**
 * `<prefix>presence.changes`: one message per status change of a user, for internal services
 * (e.g. push-notification fallback when a user goes offline). Each change is published once, by
 * the presence replica that decided it.
 */
export const PresenceChange = z.object({
  id: z.string().min(1).max(128),
  userId: Id,
  previous: PresenceStatus,
  status: PresenceStatus,
  devices: z.number().int().nonnegative(),
  /** Epoch ms when presence decided the change. */
  at: z.number().int().nonnegative(),
});
export type PresenceChange = z.infer<typeof PresenceChange>;

export const presenceChangesSubject = (prefix = '') => `${prefix}presence.changes`;

/**
 * Data of the `presence:status` event proposed for the user's private room (room.user.<id>). The
 * RoomEvent union does not hold this type yet; presence only publishes it there when
 * PUBLISH_USER_STATUS is on.
 */
export const PresenceStatusData = z.object({
  userId: Id,
  status: PresenceStatus,
  previous: PresenceStatus,
  devices: z.number().int().nonnegative(),
  timestamp: Timestamp,
});
export type PresenceStatusData = z.infer<typeof PresenceStatusData>;

/**
 * `<prefix>presence.online`: the exact number of users online in each club room whose membership
 * just changed (read from presence's state, so a storm whose frames were coalesced away still
 * reports the right count). The ledger keeps it in clubs.active_websocket_connections.
 */
export const RoomsOnline = z.object({
  at: z.number().int().nonnegative(),
  rooms: z.array(z.object({ room: Room, online: z.number().int().nonnegative() })).max(1000),
});
export type RoomsOnline = z.infer<typeof RoomsOnline>;
export const presenceOnlineSubject = (prefix = '') => `${prefix}presence.online`;
