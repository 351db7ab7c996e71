import { liveSequence } from '@crowncast/bus';
import { liveRoomSubject, type Room, roomFromSubject } from '@crowncast/protocol';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { monoMs } from '../clock.js';
import type { Conn } from '../conn/types.js';
import type { EdgeMetrics } from '../plugins/metrics.js';
import { type LiveEvent, parseLive, wireEvent } from './envelope.js';
import { SharedFrame } from './frames.js';
import { eachMember, type Member, memberOf, ResumingMember, withMember, withoutMember } from './members.js';
import { RoomState, roomContext } from './room-state.js';

export type { ResumingMember } from './members.js';

export interface Delivered {
  event: LiveEvent;
  sockets: number;
  writtenAt: number;
}

export interface HubOptions {
  nc: NatsConnection;
  prefix: string;
  metrics: EdgeMetrics;
  /** Coalescing window, ms; 0 writes every event in its own frame. */
  batchWindowMs: number;
  batchMaxEvents: number;
  onDelivered: (d: Delivered) => void;
  /** A subscription's error (a permission violation names its subject). */
  onError: (err: Error) => void;
  /** The room's latest stream sequence (0 if none), undefined when the stream cannot say. */
  readHead: (room: Room) => Promise<number | undefined>;
}

export type Hub = ReturnType<typeof createHub>;

/** How long a replay waits for a client to take the previous frames before calling it slow. */
const REPLAY_DRAIN_WAIT_MS = 10_000;

/**
 * Rooms with local members: one core subscription on `live.room.…` per room (reference-counted by
 * members), each event validated once, framed once per encoding, the same bytes written to every
 * member socket. A busy room's events within the window go out as one `batch` frame in seq order.
 */
export function createHub(o: HubOptions) {
  // By live subject. One message handler for every room (a closure per room is memory per connection).
  const rooms = new Map<string, RoomState>();
  const ctx = roomContext(o.nc, onMessage);
  const stateOf = (room: Room) => rooms.get(liveRoomSubject(room, o.prefix));
  const built = (encoding: string) => o.metrics.framesBuilt.inc({ encoding });

  /**
   * One flush round trip for every subscription opened in the same tick (a connect storm opens a
   * user room per connection). The PING goes out after all their SUBs, so its PONG still proves the
   * server has each of them; a flush per subscription cost a round trip per connection.
   */
  let nextFlush: { done: Promise<void>; rooms: RoomState[] } | null = null;
  function sharedFlush(state: RoomState): Promise<void> {
    if (!nextFlush) {
      const opened: RoomState[] = [];
      nextFlush = {
        rooms: opened,
        done: new Promise<void>((resolve) =>
          setImmediate(() => {
            nextFlush = null;
            const settle = () => {
              for (const r of opened) r.ready = null;
              resolve();
            };
            o.nc.flush().then(settle, settle);
          }),
        ),
      };
    }
    nextFlush.rooms.push(state);
    return nextFlush.done;
  }

  function onMessage(err: Error | null, msg: Msg, state: RoomState) {
    if (err) return o.onError(err);
    const parsed = parseLive(roomFromSubject(state.subject, o.prefix) as Room, msg);
    if (!parsed.ok) {
      o.metrics.invalidEnvelopes.inc({ reason: parsed.reason });
      const s = liveSequence(msg);
      if (s) {
        const linksTo = state.dropped?.seq === s.prevSeq ? state.dropped.linksTo : s.prevSeq;
        state.dropped = { seq: s.seq, linksTo };
      }
      return;
    }
    onEvent(state, parsed.event);
  }

  function open(room: Room): RoomState {
    const subject = liveRoomSubject(room, o.prefix);
    const state = new RoomState(subject, ctx);
    state.ready = sharedFlush(state);
    rooms.set(subject, state);
    o.metrics.rooms.set(rooms.size);
    return state;
  }

  function onEvent(state: RoomState, e: LiveEvent) {
    if (state.dropped) {
      if (e.prevSeq === state.dropped.seq) e.prevSeq = state.dropped.linksTo;
      state.dropped = null;
    }
    // Core NATS does not redeliver, but a re-subscription after a reconnect could overlap.
    if (e.seq <= state.lastSeq) return;
    state.lastSeq = e.seq;
    const now = monoMs();
    if (o.batchWindowMs === 0) return deliver(state, [e]);
    if (!state.timer && now - state.lastFlushAt >= o.batchWindowMs) {
      // A quiet room: no reason to wait, the window only starts after this write.
      return deliver(state, [e]);
    }
    if (state.pending) state.pending.push(e);
    else state.pending = [e];
    if (!state.timer) {
      const wait = Math.max(0, o.batchWindowMs - (now - state.lastFlushAt));
      state.timer = setTimeout(() => flush(state), wait);
    }
  }

  function flush(state: RoomState) {
    state.timer = null;
    const events = state.pending ?? [];
    state.pending = null;
    for (let i = 0; i < events.length; i += o.batchMaxEvents) {
      deliver(state, events.slice(i, i + o.batchMaxEvents));
    }
  }

  function deliver(state: RoomState, events: LiveEvent[]) {
    const value =
      events.length === 1
        ? wireEvent(events[0] as LiveEvent)
        : { type: 'batch', room: (events[0] as LiveEvent).room, events: events.map(wireEvent) };
    const frame = new SharedFrame(value, built);
    let sockets = 0;
    // One clock read for the room's sockets (their lag marks), not one per socket.
    const now = monoMs();
    for (const m of eachMember(state.members)) {
      let conn: Conn;
      if (m instanceof ResumingMember) {
        if (m.buffered) {
          m.buffered.push(...events);
          continue;
        }
        if (m.after >= (events[0] as LiveEvent).seq) {
          // Joined while these waited in the window, and its replay already sent some of them.
          const rest = events.filter((e) => e.seq > m.after);
          const only = rest[0];
          if (
            only &&
            m.conn.send(rest.length === 1 ? wireEvent(only) : { ...value, events: rest.map(wireEvent) })
          )
            sockets++;
          continue;
        }
        conn = m.conn;
      } else {
        conn = m;
      }
      if (conn.writeFrame(frame.bytes(conn.encoding), now)) sockets++;
    }
    o.metrics.framesOut.inc({ kind: 'room' }, sockets);
    state.lastFlushAt = monoMs();
    // Wall clock: compared with the events' own timestamps.
    const writtenAt = Date.now();
    for (const event of events) {
      if (sockets > 0) o.metrics.deliveryLatency.observe(Math.max(0, writtenAt - event.tsMs) / 1000);
      o.onDelivered({ event, sockets, writtenAt });
    }
  }

  /** Puts `member` in the room (opening its subscription if it is the first); resolves once the server has it. */
  async function addMember(room: Room, member: Member): Promise<void> {
    const state = stateOf(room) ?? open(room);
    state.members = withMember(state.members, member);
    if (state.ready) await state.ready;
  }

  return {
    /** Adds a member that takes the room's events live from now on. Resolves once the room's subscription is registered with the server. */
    async add(conn: Conn, room: Room): Promise<void> {
      await addMember(room, conn);
    },
    /**
     * Adds a member whose live events are held until endReplay(), for a join with `lastSeq`. Resolves
     * once the room's subscription is registered with the server.
     */
    async addResuming(conn: Conn, room: Room): Promise<ResumingMember> {
      const member = new ResumingMember(conn);
      await addMember(room, member);
      return member;
    },
    /**
     * A new member's resume point: every event after it reaches the member live. The room's head as
     * read once when its subscription became active, or the last event that arrived since, whichever
     * is later; so only the first join of a room on this edge reads the stream (the shared `global`
     * room, a club with members here already: none). Undefined when the stream cannot say. After a
     * NATS outage, until the room's next event arrives, it can be older than what the stream holds:
     * the client then sees a gap at that event and reloads the room (nothing is lost).
     */
    async resumePoint(room: Room): Promise<number | undefined> {
      const state = stateOf(room);
      if (!state) return undefined;
      if (state.ready) await state.ready;
      if (state.head === null) {
        const read: Promise<number | undefined> = o.readHead(room).then((h) => {
          // Kept as the number (a promise per room is memory per connection); a failed read is retried.
          if (state.head === read) state.head = h ?? null;
          return h;
        });
        state.head = read;
      }
      const head = await state.head;
      return head === undefined ? undefined : Math.max(head, state.lastSeq);
    },
    /** What arrived live since the last call, while the member keeps being held. */
    takeHeld(member: ResumingMember): LiveEvent[] {
      const b = member.buffered ?? [];
      if (member.buffered) member.buffered = [];
      return b;
    },
    /**
     * Stops buffering and returns what arrived live meanwhile (the caller sends it); `sentUpTo` is
     * the last seq the replay sent this member.
     */
    endReplay(member: ResumingMember, sentUpTo = 0): LiveEvent[] {
      const b = member.buffered ?? [];
      member.buffered = null;
      member.after = sentUpTo;
      return b;
    },
    isMember(conn: Conn, room: Room, member?: ResumingMember): boolean {
      const state = stateOf(room);
      const m = state ? memberOf(state.members, conn) : undefined;
      return member ? m === member : m !== undefined;
    },
    remove(conn: Conn, room: Room): void {
      const state = stateOf(room);
      if (!state) return;
      const { members, removed } = withoutMember(state.members, conn);
      state.members = members;
      if (!removed || members !== null) return;
      if (state.timer) clearTimeout(state.timer);
      state.unsubscribe();
      rooms.delete(state.subject);
      o.metrics.rooms.set(rooms.size);
    },
    /** Events for one connection only (replays): framed for it, in batch frames of batchMaxEvents. */
    sendTo(conn: Conn, room: Room, events: LiveEvent[]): void {
      for (let i = 0; i < events.length; i += o.batchMaxEvents) {
        const chunk = events.slice(i, i + o.batchMaxEvents);
        conn.send(
          chunk.length === 1
            ? wireEvent(chunk[0] as LiveEvent)
            : { type: 'batch', room, events: chunk.map(wireEvent) },
        );
      }
    },
    /**
     * A replay (or the live events held during it): frames of at most half the send bound, each
     * written once the previous ones left the socket. A burst bigger than the bound is normal for a
     * client that was away; closing it as a slow consumer would make it resume from the same seq
     * and hit the same burst again, forever. A client that reads nothing is still closed (4009).
     */
    async sendPaced(conn: Conn, room: Room, events: LiveEvent[]): Promise<boolean> {
      const budget = conn.sendBufferMaxBytes / 2;
      let chunk: LiveEvent[] = [];
      let bytes = 0;
      const flush = async () => {
        if (chunk.length === 0) return true;
        if (!(await conn.whenDrained(REPLAY_DRAIN_WAIT_MS))) {
          conn.closeSlow();
          return false;
        }
        const ok = conn.send(
          chunk.length === 1
            ? wireEvent(chunk[0] as LiveEvent)
            : { type: 'batch', room, events: chunk.map(wireEvent) },
        );
        chunk = [];
        bytes = 0;
        return ok;
      };
      for (const e of events) {
        const size = JSON.stringify(e.data).length + 200;
        if (chunk.length > 0 && (chunk.length >= o.batchMaxEvents || bytes + size > budget)) {
          if (!(await flush())) return false;
        }
        chunk.push(e);
        bytes += size;
      }
      return flush();
    },
    roomCount: () => rooms.size,
    close(): void {
      for (const s of rooms.values()) {
        if (s.timer) clearTimeout(s.timer);
        s.unsubscribe();
      }
      rooms.clear();
      o.metrics.rooms.set(0);
    },
  };
}
