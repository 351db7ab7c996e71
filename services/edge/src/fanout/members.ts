import type { Conn } from '../conn/types.js';
import type { LiveEvent } from './envelope.js';

/**
 * A member that joined with `lastSeq`: live events are held for it while its replay runs, and the
 * ones the replay already sent are not written again.
 */
export class ResumingMember {
  /** Live events that arrived during the replay (null once it ended). */
  buffered: LiveEvent[] | null = [];
  /**
   * The last seq its join replay sent: events at or below it that were still waiting in the room's
   * batching window when the replay ended must not be written to it again.
   */
  after = 0;
  constructor(readonly conn: Conn) {}
}

/**
 * A room's member: the connection itself, or a ResumingMember for a join with `lastSeq`. Every
 * connection is a member of two rooms from its first frame (its private room and `global`); a wrapper
 * object there was ~100 bytes per connection.
 */
export type Member = Conn | ResumingMember;

export const connOf = (m: Member): Conn => (m instanceof ResumingMember ? m.conn : m);

/**
 * A room's members: the member itself while it is the only one, a Map by connection from the
 * second on. Every connected user has a private room with one member (one device); a Map per such
 * room was ~180 bytes per connection.
 */
export type Members = Member | Map<Conn, Member> | null;

export function memberOf(ms: Members, conn: Conn): Member | undefined {
  if (ms === null) return undefined;
  if (ms instanceof Map) return ms.get(conn);
  return connOf(ms) === conn ? ms : undefined;
}

/** `ms` with `m` added (or put in place of the member of the same connection). */
export function withMember(ms: Members, m: Member): Members {
  const conn = connOf(m);
  if (ms === null || (!(ms instanceof Map) && connOf(ms) === conn)) return m;
  if (ms instanceof Map) return ms.set(conn, m);
  return new Map([
    [connOf(ms), ms],
    [conn, m],
  ]);
}

/** `ms` without the member of `conn`, and whether there was one. */
export function withoutMember(ms: Members, conn: Conn): { members: Members; removed: boolean } {
  if (ms === null) return { members: ms, removed: false };
  if (!(ms instanceof Map)) {
    return connOf(ms) === conn ? { members: null, removed: true } : { members: ms, removed: false };
  }
  const removed = ms.delete(conn);
  if (ms.size === 1) return { members: ms.values().next().value as Member, removed };
  return { members: ms.size === 0 ? null : ms, removed };
}

export function eachMember(ms: Members): Iterable<Member> {
  if (ms === null) return [];
  return ms instanceof Map ? ms.values() : [ms];
}
