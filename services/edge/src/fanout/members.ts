import type { Conn } from '../conn/types.js';
import type { LiveEvent } from './envelope.js';

/** A member whose join replay is running gets live events buffered here instead of written. */
export interface Member {
  conn: Conn;
  buffered: LiveEvent[] | null;
  /**
   * The last seq its join replay sent: events at or below it that were still waiting in the room's
   * batching window when the replay ended must not be written to it again.
   */
  after: number;
}

/**
 * A room's members: the member itself while it is the only one, a Map by connection id from the
 * second on. Every connected user has a private room with one member (one device); a Map per such
 * room was ~180 bytes per connection.
 */
export type Members = Member | Map<string, Member> | null;

export function memberOf(ms: Members, connId: string): Member | undefined {
  if (ms === null) return undefined;
  if (ms instanceof Map) return ms.get(connId);
  return ms.conn.id === connId ? ms : undefined;
}

/** `ms` with `m` added (or put in place of the member of the same connection). */
export function withMember(ms: Members, m: Member): Members {
  if (ms === null || (!(ms instanceof Map) && ms.conn.id === m.conn.id)) return m;
  if (ms instanceof Map) return ms.set(m.conn.id, m);
  return new Map([
    [ms.conn.id, ms],
    [m.conn.id, m],
  ]);
}

/** `ms` without the member of `connId`, and whether there was one. */
export function withoutMember(ms: Members, connId: string): { members: Members; removed: boolean } {
  if (ms === null) return { members: ms, removed: false };
  if (!(ms instanceof Map)) {
    return ms.conn.id === connId ? { members: null, removed: true } : { members: ms, removed: false };
  }
  const removed = ms.delete(connId);
  if (ms.size === 1) return { members: ms.values().next().value as Member, removed };
  return { members: ms.size === 0 ? null : ms, removed };
}

export function eachMember(ms: Members): Iterable<Member> {
  if (ms === null) return [];
  return ms instanceof Map ? ms.values() : [ms];
}
