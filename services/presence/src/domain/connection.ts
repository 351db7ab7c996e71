import type { PresenceConnection } from '@crowncast/protocol';

/**
 * Rooms whose members presence counts. A connection's private room and the global room are
 * implied (the online count covers them), so they are not stored per room.
 */
export function tracksRoom(room: string): boolean {
  return room.startsWith('club:') || room.startsWith('game:');
}

/**
 * The form a connection is stored in: "userId|lastActivityAt|room,room" with rooms sorted, so an
 * unchanged connection in a heartbeat compares equal to what Redis holds and costs no write.
 * Ids and rooms cannot contain "|" or "," (protocol regexes).
 */
export function encodeConnection(c: PresenceConnection): string {
  const rooms = c.rooms.filter(tracksRoom).sort();
  const unique = rooms.filter((r, i) => i === 0 || rooms[i - 1] !== r);
  return `${c.userId}|${c.lastActivityAt}|${unique.join(',')}`;
}
