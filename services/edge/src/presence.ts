import {
  PRESENCE_HEARTBEAT_MAX_CONNECTIONS,
  type PresenceConnection,
  type PresenceConnectionNotice,
  type PresenceHeartbeat,
  presenceSubject,
} from '@crowncast/protocol';
import type { NatsConnection } from '@nats-io/transport-node';

export interface PresenceOptions {
  nc: NatsConnection;
  prefix: string;
  edgeId: string;
  intervalMs: number;
  /** Every connection this edge holds. */
  connections: () => PresenceSource[];
}

/** A connection as presence sees it, read only when its heartbeat chunk goes out. */
export interface PresenceSource {
  readonly isOpen: boolean;
  presence(): PresenceConnection;
}

/**
 * Ticks per interval over which one heartbeat round is spread: serialising 10,000 connections in
 * one go every interval stalled delivery on this edge for tens of milliseconds.
 */
const SLICES = 10;
/** Smaller rounds go out whole: spreading only pays for big edges, and each chunk is a message. */
const MIN_CHUNK = 500;

export type Presence = ReturnType<typeof createPresence>;

/**
 * Tells the presence service who is here: one heartbeat per interval for the whole edge (chunked
 * under NATS's payload limit), plus a notice on connect, disconnect, room change and activity.
 */
export function createPresence(o: PresenceOptions) {
  const publish = (subject: string, body: unknown) => {
    if (!o.nc.isClosed()) o.nc.publish(subject, JSON.stringify(body));
  };
  const notice = (kind: 'connect' | 'disconnect' | 'rooms' | 'activity', connection: PresenceConnection) => {
    const body: PresenceConnectionNotice = { edgeId: o.edgeId, at: Date.now(), connection };
    publish(presenceSubject(kind, o.edgeId, o.prefix), body);
  };

  let round: PresenceSource[] = [];
  let tickNo = 0;
  let chunkSize = 1;
  let chunks = 1;
  let next = 0;

  function publishChunk(chunk: number) {
    const connections: PresenceConnection[] = [];
    for (const c of round.slice(chunk * chunkSize, (chunk + 1) * chunkSize)) {
      if (c.isOpen) connections.push(c.presence());
    }
    const body: PresenceHeartbeat = {
      edgeId: o.edgeId,
      intervalMs: o.intervalMs,
      sentAt: Date.now(),
      chunk,
      chunks,
      connections,
    };
    publish(presenceSubject('heartbeat', o.edgeId, o.prefix), body);
  }

  /** A new round: who is here now, cut into chunks that the ticks of this interval send. */
  function startRound() {
    round = o.connections();
    chunkSize = Math.min(
      PRESENCE_HEARTBEAT_MAX_CONNECTIONS,
      Math.max(MIN_CHUNK, Math.ceil(round.length / SLICES)),
    );
    chunks = Math.max(1, Math.ceil(round.length / chunkSize));
    next = 0;
  }

  function tick() {
    if (tickNo % SLICES === 0) startRound();
    tickNo++;
    // The chunks this tick owes so that the round ends within the interval.
    const due = Math.min(chunks, Math.ceil((chunks * (((tickNo - 1) % SLICES) + 1)) / SLICES));
    for (; next < due; next++) publishChunk(next);
  }

  /** A whole round at once (tests, shutdown). */
  function heartbeat() {
    startRound();
    for (; next < chunks; next++) publishChunk(next);
  }
  const timer = setInterval(tick, Math.max(1, Math.floor(o.intervalMs / SLICES)));
  timer.unref();

  return {
    connected: (c: PresenceConnection) => notice('connect', c),
    disconnected: (c: PresenceConnection) => notice('disconnect', c),
    roomsChanged: (c: PresenceConnection) => notice('rooms', c),
    activity: (c: PresenceConnection) => notice('activity', c),
    heartbeat,
    close(): void {
      clearInterval(timer);
    },
  };
}
