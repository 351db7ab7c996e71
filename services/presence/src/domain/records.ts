import type { PresenceStatus } from '@crowncast/protocol';

/** What the Redis scripts decided, parsed from their flat reply (see store/lua-scripts.ts). */
export interface StatusChange {
  id: string;
  userId: string;
  previous: PresenceStatus;
  status: PresenceStatus;
  devices: number;
}
export interface RoomFrame {
  id: string;
  room: string;
  userId: string;
  joined: boolean;
  at: number;
}
export interface RoomOverflow {
  room: string;
  joins: number;
  leaves: number;
  online: number;
}
export interface Outcome {
  changes: StatusChange[];
  frames: RoomFrame[];
  overflows: RoomOverflow[];
  drainedEdges: string[];
  more: boolean;
}

const STATUSES = new Set(['online', 'idle', 'away', 'offline']);
function status(v: string | undefined): PresenceStatus {
  if (!v || !STATUSES.has(v)) throw new Error(`presence script returned an unknown status ${v}`);
  return v as PresenceStatus;
}

export function parseOutcome(reply: unknown): Outcome {
  const r = (Array.isArray(reply) ? reply : []).map(String);
  const o: Outcome = { changes: [], frames: [], overflows: [], drainedEdges: [], more: false };
  let i = 0;
  while (i < r.length) {
    const tag = r[i];
    if (tag === 's') {
      o.changes.push({
        id: r[i + 1]!,
        userId: r[i + 2]!,
        previous: status(r[i + 3]),
        status: status(r[i + 4]),
        devices: Number(r[i + 5]),
      });
      i += 6;
    } else if (tag === 'r') {
      o.frames.push({
        id: r[i + 1]!,
        room: r[i + 2]!,
        userId: r[i + 3]!,
        joined: r[i + 4] === 'j',
        at: Number(r[i + 5]),
      });
      i += 6;
    } else if (tag === 'o') {
      o.overflows.push({
        room: r[i + 1]!,
        joins: Number(r[i + 2]),
        leaves: Number(r[i + 3]),
        online: Number(r[i + 4]),
      });
      i += 5;
    } else if (tag === 'd') {
      o.drainedEdges.push(r[i + 1]!);
      i += 2;
    } else if (tag === 'm') {
      o.more = r[i + 1] === '1';
      i += 2;
    } else {
      throw new Error(`presence script returned an unknown record ${tag}`);
    }
  }
  return o;
}
