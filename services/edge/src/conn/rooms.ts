import type { Room } from '@crowncast/protocol';
import type { Hub } from '../fanout/hub.js';
import { type ReplayDeps, readAfter } from '../fanout/replay.js';
import type { Membership } from '../membership.js';
import { MembershipUnavailable } from '../membership.js';
import type { EdgeMetrics } from '../plugins/metrics.js';
import type { EdgeConnection } from './connection.js';

export interface RoomDeps {
  hub: Hub;
  membership: Membership;
  replay: ReplayDeps;
  metrics: EdgeMetrics;
  maxRooms: number;
}

export type JoinOutcome =
  | {
      ok: true;
      room: Room;
      alreadyJoined: boolean;
      replayed: number;
      resync: boolean;
      /** The room's stream sequence this member is live after: its resume point for a later lastSeq. */
      seq?: number;
    }
  | { ok: false; code: 'NOT_A_MEMBER' | 'MEMBERSHIP_UNAVAILABLE' | 'TOO_MANY_ROOMS'; message: string };

/**
 * Joining a room: membership from the ledger, then the live subscription, then (with lastSeq) the
 * stream's events after lastSeq. Live events that arrive during the read are held for this member and
 * sent after it, without the ones the read already sent: no gap, no duplicate.
 */
export async function joinRoom(
  d: RoomDeps,
  conn: EdgeConnection,
  room: Room,
  lastSeq: number | undefined,
  opts: { checkMembership: boolean },
): Promise<JoinOutcome> {
  if (conn.hasRoom(room) || conn.isJoining(room)) {
    return { ok: true, room, alreadyJoined: true, replayed: 0, resync: false };
  }
  if (conn.roomCount + conn.joiningCount >= d.maxRooms) {
    return { ok: false, code: 'TOO_MANY_ROOMS', message: `at most ${d.maxRooms} rooms per connection` };
  }
  conn.beginJoin(room);
  try {
    if (opts.checkMembership) {
      const member = await d.membership.isMember(conn.userId, room);
      if (!member) return { ok: false, code: 'NOT_A_MEMBER', message: `you are not a member of ${room}` };
    }
    if (!conn.isOpen) return { ok: true, room, alreadyJoined: false, replayed: 0, resync: false };
    conn.addRoom(room);
  } catch (err) {
    if (err instanceof MembershipUnavailable) {
      return {
        ok: false,
        code: 'MEMBERSHIP_UNAVAILABLE',
        message: 'membership cannot be checked now; retry',
      };
    }
    throw err;
  } finally {
    conn.endJoin(room);
  }

  if (lastSeq === undefined) {
    await d.hub.add(conn, room);
    const seq = await d.hub.resumePoint(room);
    return {
      ok: true,
      room,
      alreadyJoined: false,
      replayed: 0,
      resync: false,
      ...(seq === undefined ? {} : { seq }),
    };
  }

  const member = await d.hub.addResuming(conn, room);
  const result = await readAfter(d.replay, room, lastSeq).catch(() => ({
    ok: false as const,
    reason: 'error',
  }));
  // The client may have left (or gone) while the stream was read.
  if (!d.hub.isMember(conn, room, member))
    return { ok: true, room, alreadyJoined: false, replayed: 0, resync: false };
  let sentUpTo = lastSeq;
  let replayed = 0;
  if (result.ok) {
    // Paced (it may be bigger than the send bound); live events stay held meanwhile.
    await d.hub.sendPaced(conn, room, result.events);
    replayed = result.events.length;
    const last = result.events[result.events.length - 1];
    if (last) sentUpTo = last.seq;
    d.metrics.replays.inc({ result: 'replayed' });
    d.metrics.replayedEvents.inc(replayed);
  } else {
    conn.send({ type: 'resync:required', room, data: { lastSeq, reason: result.reason } });
    // The client reloads by REST and starts a new chain: everything live from now on is its, however
    // far off its lastSeq was (a lastSeq beyond the stream would otherwise hold back every live event).
    sentUpTo = 0;
    d.metrics.replays.inc({ result: 'resync' });
  }
  // Send what was held, still holding what arrives meanwhile, until nothing is held: only then
  // (in the same tick) does the member switch to live writes, so the order stays intact.
  for (;;) {
    const held = d.hub.takeHeld(member).filter((e) => e.seq > sentUpTo);
    if (held.length === 0 || !d.hub.isMember(conn, room, member)) break;
    await d.hub.sendPaced(conn, room, held);
    sentUpTo = (held[held.length - 1] as { seq: number }).seq;
  }
  d.hub.endReplay(member, sentUpTo);
  // After resync:required the client starts a new chain from the next frame: no resume point then.
  return {
    ok: true,
    room,
    alreadyJoined: false,
    replayed,
    resync: !result.ok,
    ...(result.ok ? { seq: sentUpTo } : {}),
  };
}

export function leaveRoom(d: RoomDeps, conn: EdgeConnection, room: Room): boolean {
  if (!conn.removeRoom(room)) return false;
  d.hub.remove(conn, room);
  return true;
}
