import { z } from 'zod';

/**
 * Ids of users, clubs, games and gifts. They become NATS subject tokens, so they may not contain
 * dots, wildcards or whitespace.
 */
export const Id = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'ids are 1-64 characters of A-Z, a-z, 0-9, _ and -');
export type Id = z.infer<typeof Id>;

export const RoomKind = z.enum(['club', 'game', 'user']);
export type RoomKind = z.infer<typeof RoomKind>;

/** A room as clients see it: `club:<id>`, `game:<id>`, `user:<id>` or `global`. */
export const Room = z.union([
  z.literal('global'),
  z
    .string()
    .regex(/^(club|game|user):[A-Za-z0-9_-]{1,64}$/, 'a room is club:<id>, game:<id>, user:<id> or global'),
]);
export type Room = z.infer<typeof Room>;

export function room(kind: RoomKind, id: string): Room {
  return `${kind}:${id}`;
}

/**
 * NATS subjects are a public contract. `prefix` isolates deployments and test runs; it is empty in
 * production, so a club room is `room.club.<id>` and its live copy `live.room.club.<id>`.
 */
export function roomSubject(r: Room, prefix = ''): string {
  return `${prefix}room.${r === 'global' ? 'global' : r.replace(':', '.')}`;
}

export function liveRoomSubject(r: Room, prefix = ''): string {
  return `${prefix}live.${roomSubject(r)}`;
}

/** The room a `room.…` or `live.room.…` subject names, or null if it names none. */
export function roomFromSubject(subject: string, prefix = ''): Room | null {
  if (!subject.startsWith(prefix)) return null;
  let rest = subject.slice(prefix.length);
  if (rest.startsWith('live.')) rest = rest.slice(5);
  if (rest === 'room.global') return 'global';
  const m = /^room\.(club|game|user)\.([A-Za-z0-9_-]{1,64})$/.exec(rest);
  return m ? (`${m[1]}:${m[2]}` as Room) : null;
}
