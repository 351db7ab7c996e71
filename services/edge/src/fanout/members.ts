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
 * A room's members: the member itself while it is the only one, a Map by connection id from the
 * second on. Every connected user has a private room with one member (one device); a Map per such
 * room was ~180 bytes per connection.
 */
export type Members = Member | Map<string, Member> | null;

export function memberOf(ms: Members, connId: string): Member | undefined {
  if (ms === null) return undefined;
  if (ms instanceof Map) return ms.get(connId);
  return connOf(ms).id === connId ? ms : undefined;
}

/** `ms` with `m` added (or put in place of the member of the same connection). */
export function withMember(ms: Members, m: Member): Members {
  const id = connOf(m).id;
  if (ms === null || (!(ms instanceof Map) && connOf(ms).id === id)) return m;
  if (ms instanceof Map) return ms.set(id, m);
  return new Map([
    [connOf(ms).id, ms],
    [id, m],
  ]);
}

/** `ms` without the member of `connId`, and whether there was one. */
export function withoutMember(ms: Members, connId: string): { members: Members; removed: boolean } {
  if (ms === null) return { members: ms, removed: false };
  if (!(ms instanceof Map)) {
    return connOf(ms).id === connId ? { members: null, removed: true } : { members: ms, removed: false };
  }
  const removed = ms.delete(connId);
  if (ms.size === 1) return { members: ms.values().next().value as Member, removed };
  return { members: ms.size === 0 ? null : ms, removed };
}

export function eachMember(ms: Members): Iterable<Member> {
  if (ms === null) return [];
  return ms instanceof Map ? ms.values() : [ms];
}
