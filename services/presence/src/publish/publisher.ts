import {
  type PresenceChange,
  PresenceStatusData,
  presenceChangesSubject,
  presenceOnlineSubject,
  RoomEvent,
  type RoomsOnline,
  roomSubject,
} from '@crowncast/protocol';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Outcome, RoomFrame, StatusChange } from '../domain/records.js';
import type { PresenceMetrics } from '../plugins/metrics.js';

export interface PublisherDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  prefix: string;
  log: Logger;
  metrics: PresenceMetrics;
  publishUserStatus: boolean;
  /** Users online per room right now (for the presence.online counts). */
  roomsOnline: (rooms: string[]) => Promise<number[]>;
  /** Attempts of one JetStream publish before it counts as failed. */
  attempts?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function memberFrame(f: RoomFrame): RoomEvent {
  const clubId = f.room.slice('club:'.length);
  const timestamp = new Date(f.at).toISOString();
  return RoomEvent.parse({
    type: f.joined ? 'club:member:connected' : 'club:member:disconnected',
    id: `presence-${f.id}`,
    ts: timestamp,
    data: { clubId, userId: f.userId, timestamp },
  });
}

/**
 * Sends out what a Redis script decided. Only the replica whose script made a decision gets it, so
 * each frame is published by one process; the Nats-Msg-Id (the event id) makes a retried publish
 * land once in the stream, and a room's frames go out in the order they were decided.
 */
export function createPublisher(d: PublisherDeps) {
  const attempts = d.attempts ?? 5;

  async function toStream(subject: string, body: { id: string }, type: string): Promise<void> {
    const payload = JSON.stringify(body);
    for (let i = 1; ; i++) {
      try {
        await d.js.publish(subject, payload, { msgID: body.id });
        d.metrics.published.inc({ type });
        return;
      } catch (err) {
        if (i >= attempts) {
          d.metrics.publishFailures.inc();
          d.log.warn({ err: (err as Error).message, subject, id: body.id }, 'presence event not published');
          return;
        }
        await sleep(100 * 2 ** i);
      }
    }
  }

  /**
   * The last publish (with its retries) of each subject. A frame waits for the one before it in its
   * room: a first attempt that fails is retried after a backoff, and a later frame sent meanwhile
   * would land before it ("connected" after "disconnected").
   */
  const tails = new Map<string, Promise<void>>();
  function inOrder(subject: string, body: { id: string }, type: string): Promise<void> {
    const prev = tails.get(subject);
    const next = prev ? prev.then(() => toStream(subject, body, type)) : toStream(subject, body, type);
    tails.set(subject, next);
    void next.then(() => {
      if (tails.get(subject) === next) tails.delete(subject);
    });
    return next;
  }

  function change(c: StatusChange, at: number): Promise<void> | undefined {
    d.metrics.statusChanges.inc({ status: c.status });
    const msg: PresenceChange = { ...c, at };
    d.nc.publish(presenceChangesSubject(d.prefix), JSON.stringify(msg));
    d.metrics.published.inc({ type: 'presence.changes' });
    if (!d.publishUserStatus) return undefined;
    const timestamp = new Date(at).toISOString();
    const data = PresenceStatusData.parse({ ...c, timestamp });
    const id = `presence-${c.id}`;
    return inOrder(
      roomSubject(`user:${c.userId}`, d.prefix),
      { type: 'presence:status', id, ts: timestamp, data } as { id: string },
      'presence:status',
    );
  }

  /** The exact online count of every club room this outcome touched, including coalesced storms. */
  async function publishCounts(o: Outcome, at: number): Promise<void> {
    const rooms = [...new Set([...o.frames.map((f) => f.room), ...o.overflows.map((v) => v.room)])].filter(
      (r) => r.startsWith('club:'),
    );
    if (rooms.length === 0) return;
    try {
      const online = await d.roomsOnline(rooms);
      const msg: RoomsOnline = {
        at,
        rooms: rooms.map((room, i) => ({ room: room as `club:${string}`, online: online[i] ?? 0 })),
      };
      d.nc.publish(presenceOnlineSubject(d.prefix), JSON.stringify(msg));
      d.metrics.published.inc({ type: 'presence.online' });
    } catch (err) {
      d.log.warn({ err: (err as Error).message }, 'room counts not published');
    }
  }

  return {
    async publish(o: Outcome, at: number): Promise<void> {
      const pending: Promise<void>[] = [];
      for (const c of o.changes) {
        const p = change(c, at);
        if (p) pending.push(p);
      }
      // Frames of one room go out one after the other (inOrder), retries included.
      for (const f of o.frames) {
        const ev = memberFrame(f);
        pending.push(inOrder(roomSubject(f.room as `club:${string}`, d.prefix), ev, ev.type));
      }
      for (const ov of o.overflows) {
        d.metrics.coalesced.inc(ov.joins + ov.leaves);
        d.log.info(ov, 'room presence storm: frames over budget left out');
      }
      pending.push(publishCounts(o, at));
      for (const edge of o.drainedEdges) {
        d.metrics.edgesExpired.inc();
        d.log.warn({ edge }, 'edge stopped heartbeating: its connections were expired');
      }
      await Promise.all(pending);
    },
  };
}
export type Publisher = ReturnType<typeof createPublisher>;
