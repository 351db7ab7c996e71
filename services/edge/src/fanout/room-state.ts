import { errors, type Msg, type NatsConnection } from '@nats-io/transport-node';
import type { LiveEvent } from './envelope.js';
import type { Members } from './members.js';

/**
 * What nats.js's protocol handler (@nats-io/nats-core 3.4, lib/protocol.js; the version is pinned by
 * patches/@nats-io__nats-core@3.4.0.patch) reads and calls on a subscription it holds: it numbers it
 * (`sid`), sends `SUB subject sid` (and again after every reconnect), counts `received`, hands each
 * message to `callback`, and calls `close` when the connection closes and `drain` when it drains.
 */
interface Protocol {
  subscribe(s: RoomState): void;
  unsubscribe(s: RoomState): void;
  unsub(s: RoomState): void;
  flush(): Promise<void>;
  isClosed(): boolean;
  subscriptions: { cancel(s: RoomState): void };
}

/** What every room of a hub shares: one object, not a field each. */
export interface RoomContext {
  nc: NatsConnection;
  protocol: Protocol;
  /** The hub's message handler, for every room. */
  onMessage(err: Error | null, msg: Msg, state: RoomState): void;
}

export function roomContext(nc: NatsConnection, onMessage: RoomContext['onMessage']): RoomContext {
  const protocol = (nc as unknown as { protocol?: Protocol }).protocol;
  if (typeof protocol?.subscribe !== 'function' || typeof protocol.unsub !== 'function') {
    throw new Error(
      'edge: this nats.js has no protocol handler the room subscriptions fit (pinned: nats-core 3.4)',
    );
  }
  return { nc, protocol, onMessage };
}

/**
 * One room with local members, and its core NATS subscription on `live.room.…` in the same object.
 * Every connected user has one (its private room), so each field here is memory per connection:
 * nats.js's own subscription object is ~290 bytes (most of it the async-iterator machinery a
 * callback subscription never uses) next to ~100 for the room; this is ~140 for both. What is
 * rarely needed is null until it is.
 */
export class RoomState {
  /** Set by the protocol handler when it registers the subscription. */
  sid = 0;
  /** Counted by the protocol handler. */
  received = 0;
  private closed = false;
  /**
   * Resolves once the server has the subscription, so a stream read started after it misses
   * nothing; null once it has.
   */
  ready: Promise<void> | null = null;
  /**
   * The stream's head for this room, read once after `ready` (null until a join needs it, and again
   * after a failed read; the number once read): everything after it reaches the room's members live.
   */
  head: Promise<number | undefined> | number | null = null;
  members: Members = null;
  /** Events waiting in the batching window (null when none). */
  pending: LiveEvent[] | null = null;
  timer: NodeJS.Timeout | null = null;
  /**
   * When the room's last write loop ended (monoMs). Measured at the end, not the start: a broadcast to
   * thousands of sockets takes far longer than the window, and the events that queued up meanwhile
   * must find a busy room (and go out together), not a quiet one.
   */
  lastFlushAt = 0;
  lastSeq = 0;
  /**
   * The last envelope of this room that was dropped as invalid, and the seq its chain really links
   * to (the last valid event before it). The next valid event names the dropped seq as prevSeq;
   * it is rewritten so clients see no gap where nothing they could receive was lost.
   */
  dropped: { seq: number; linksTo: number } | null = null;

  /** Subscribes to `subject` (live.room.…); the server has it once `ready` resolves. */
  constructor(
    readonly subject: string,
    private readonly ctx: RoomContext,
  ) {
    if (ctx.nc.isClosed()) throw new errors.ClosedConnectionError();
    if (ctx.nc.isDraining()) throw new errors.DrainingConnectionError();
    ctx.protocol.subscribe(this);
  }

  /** Called by the protocol handler: a message, or an error (a permission violation) with none. */
  callback(err: Error | null, msg: Msg): void {
    this.ctx.onMessage(err, msg, this);
  }

  /** Called by the protocol handler when the connection closes or the subscription is cancelled. */
  close(): void {
    this.closed = true;
  }

  /** Called by the protocol handler when the connection drains: no more messages after the server confirms. */
  drain(): Promise<void> {
    const p = this.ctx.protocol;
    if (p.isClosed()) return Promise.reject(new errors.ClosedConnectionError());
    if (this.closed)
      return Promise.reject(new errors.InvalidOperationError('subscription is already closed'));
    p.unsub(this);
    const cancel = () => p.subscriptions.cancel(this);
    return p.flush().then(cancel, cancel);
  }

  unsubscribe(): void {
    if (!this.closed) this.ctx.protocol.unsubscribe(this);
  }
}
