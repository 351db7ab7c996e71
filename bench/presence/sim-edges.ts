import {
  PRESENCE_HEARTBEAT_MAX_CONNECTIONS,
  type PresenceConnection,
  type PresenceHeartbeat,
  presenceSubject,
} from '@crowncast/protocol';
import type { NatsConnection } from '@nats-io/transport-node';

export interface SimEdgeOptions {
  nc: NatsConnection;
  prefix: string;
  index: number;
  connections: number;
  clubs: number;
  intervalMs: number;
  /** Share of connections that show client activity in each round. */
  activeShare: number;
}

export const userOf = (edge: number, j: number, perEdge: number) => `u${edge * perEdge + j}`;

/**
 * One simulated edge: holds `connections` sockets (one user each, one club room each) and publishes
 * its heartbeat every intervalMs as real NATS messages per the contract (batched per edge, chunks of
 * at most 2,000 connections). A share of connections reports fresh activity each round, so presence
 * sees both unchanged and changed connections, as in production; nobody changes status in steady
 * state (an active user is refreshed every 1/activeShare rounds, well inside the 5-minute idle time).
 */
export function simEdge(o: SimEdgeOptions) {
  const edgeId = `bench-edge-${o.index}`;
  const subject = presenceSubject('heartbeat', edgeId, o.prefix);
  const now0 = Date.now();
  const conns: PresenceConnection[] = Array.from({ length: o.connections }, (_, j) => {
    const n = o.index * o.connections + j;
    return {
      connectionId: `${edgeId}-c${j}`,
      userId: userOf(o.index, j, o.connections),
      rooms: [`club:bc${n % o.clubs}`],
      // One in ten is a passive socket, away for 20 minutes; the others were active in the last 2.
      lastActivityAt: j % 10 === 9 ? now0 - 20 * 60_000 : now0 - Math.floor((j / o.connections) * 2 * 60_000),
    };
  });
  let round = 0;
  let timer: NodeJS.Timeout | undefined;
  let lastSentAt = 0;
  let sentConnections = 0;

  const beat = () => {
    const now = Date.now();
    // A rotating share of the active sockets reports fresh activity; passive ones never do.
    const every = Math.max(1, Math.round(1 / o.activeShare));
    for (let j = round % every; j < conns.length; j += every)
      if (j % 10 !== 9) conns[j]!.lastActivityAt = now;
    round++;
    const size = PRESENCE_HEARTBEAT_MAX_CONNECTIONS;
    const chunks = Math.ceil(conns.length / size);
    for (let chunk = 0; chunk < chunks; chunk++) {
      const body: PresenceHeartbeat = {
        edgeId,
        intervalMs: o.intervalMs,
        sentAt: now,
        chunk,
        chunks,
        connections: conns.slice(chunk * size, (chunk + 1) * size),
      };
      o.nc.publish(subject, JSON.stringify(body));
    }
    lastSentAt = now;
    sentConnections += conns.length;
  };

  return {
    edgeId,
    users: () => conns.map((c) => c.userId),
    beat,
    /** Heartbeats every intervalMs, the first after offsetMs (edges are not in lockstep). */
    start(offsetMs: number) {
      timer = setTimeout(function next() {
        beat();
        timer = setTimeout(next, o.intervalMs);
      }, offsetMs);
    },
    /** The edge dies: no more heartbeats. Returns when its last one was sent. */
    kill(): number {
      clearTimeout(timer);
      return lastSentAt;
    },
    get lastSentAt() {
      return lastSentAt;
    },
    get sentConnections() {
      return sentConnections;
    },
  };
}
export type SimEdge = ReturnType<typeof simEdge>;
