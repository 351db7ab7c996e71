import type {
  ConnectedFrame,
  Room,
  RoomEvent,
  RoomEventOf,
  RoomEventType,
  RoomFrame,
} from '@crowncast/protocol';
import type { CrowncastError } from './errors.js';
import type { Quality } from './quality.js';

/** The connection's state. */
export enum State {
  /** Opening the socket or waiting for `connected`. */
  Connecting = 'connecting',
  /** `connected` arrived: live delivery has begun. */
  Connected = 'connected',
  /** Lost; a reconnect is scheduled. */
  Disconnected = 'disconnected',
  /** Closed by the app (`close()`) or refused for good (bad token, origin): no reconnect. */
  Closed = 'closed',
}

/** A room event as the app receives it: the envelope plus its room and seq chain. */
export type RoomEventFrame<T extends RoomEventType = RoomEventType> = RoomEventOf<T> & {
  room: Room;
  seq: number;
  prevSeq: number;
};

/** Why the app should reload a room by REST. */
export interface ResyncInfo {
  room: Room;
  /** `gap`: a prevSeq did not link to the last seq seen; others come from the edge's `resync:required`. */
  reason: 'gap' | 'not_held' | 'too_many' | 'error' | (string & {});
  /** The last seq the client had of the room. */
  lastSeq: number;
  /** For a gap: the seq of the frame that showed it. */
  seq?: number;
}

export interface JoinResult {
  room: Room;
  /** Events the edge replayed after the lastSeq sent. */
  replayed: number;
  /** True when the edge could not replay and a `resync` event was emitted. */
  resync: boolean;
}

/** Every event the client emits; room events are keyed by their type (`gift:received`, …). */
export type ClientEvents = {
  state: { state: State; previous: State };
  connected: ConnectedFrame['data'];
  disconnected: { code: number; reason: string; reconnectInMs: number | null };
  /** Any room event, after the duplicate and gap checks. */
  event: RoomEventFrame;
  resync: ResyncInfo;
  joined: JoinResult;
  /** The edge took this connection out of a room (membership revoked). */
  left: { room: Room; reason: string };
  quality: { quality: Quality; rttMs: number };
  /** The edge is shutting down; the client reconnects after this delay. */
  draining: { reconnectAfterMs: number };
  error: CrowncastError;
} & { [K in RoomEventType]: RoomEventFrame<K> };

export type { RoomEvent, RoomFrame };
