import { z } from 'zod';
import { AnimationPlayedData } from './analytics.js';
import { RoomEvent } from './envelope.js';
import { Id, Room } from './ids.js';

/**
 * The client <-> edge WebSocket protocol. Text frames carry JSON; a client that opens the socket
 * with the subprotocol `crowncast.msgpack` gets (and may send) binary MessagePack frames with the
 * same shapes. Every client request may carry an `id`; the reply (ack or error) repeats it.
 */

export const WS_SUBPROTOCOL_JSON = 'crowncast.json';
export const WS_SUBPROTOCOL_MSGPACK = 'crowncast.msgpack';

/**
 * Application close codes (RFC 6455 reserves 4000-4999 for applications). The close reason is the
 * machine-readable code name, e.g. `AUTH_TOKEN_EXPIRED`.
 */
export const CloseCode = {
  /** No token, or one that does not verify. Do not reconnect with the same token. */
  AUTH_FAILED: 4001,
  /** The token had already expired at connect: get a new one, then reconnect. */
  AUTH_TOKEN_EXPIRED: 4002,
  /** The token expired during the connection and no `auth:refresh` came in time. */
  AUTH_EXPIRED_UNREFRESHED: 4003,
  /** The Origin header is not on the edge's allow-list. */
  ORIGIN_NOT_ALLOWED: 4004,
  /** This user already holds the most connections allowed on this edge. */
  TOO_MANY_CONNECTIONS: 4005,
  /** More client messages per minute than allowed. */
  RATE_LIMITED: 4008,
  /** The socket's send buffer exceeded its bound: the client does not read fast enough. */
  SLOW_CONSUMER: 4009,
  /** The edge is shutting down: reconnect (after the delay sent in `server:draining`). */
  SERVER_DRAINING: 4012,
  /** A frame above the size limit (standard code, sent by the WebSocket layer). */
  FRAME_TOO_LARGE: 1009,
} as const;
export type CloseCodeName = keyof typeof CloseCode;

const reqId = z.string().min(1).max(64).optional();
const lastSeq = z.number().int().nonnegative().optional();

function request<T extends string, D extends z.ZodType>(type: T, data: D) {
  return z.object({ type: z.literal(type), id: reqId, data });
}

export const ClubJoinMessage = request('club:join', z.object({ clubId: Id, lastSeq }));
export const ClubLeaveMessage = request('club:leave', z.object({ clubId: Id }));
export const GameJoinMessage = request('game:join', z.object({ gameId: Id, lastSeq }));
export const GameLeaveMessage = request('game:leave', z.object({ gameId: Id }));
export const AuthRefreshMessage = request('auth:refresh', z.object({ token: z.string().min(1).max(8192) }));
export const PingMessage = request('ping', z.object({}).optional());
export const RoomsMessage = request('rooms', z.object({}).optional());
export const PresenceActivityMessage = request('presence:activity', z.object({}).optional());
export const AnimationPlayedMessage = request('gift:animation:played', AnimationPlayedData);

export const ClientMessage = z.discriminatedUnion('type', [
  ClubJoinMessage,
  ClubLeaveMessage,
  GameJoinMessage,
  GameLeaveMessage,
  AuthRefreshMessage,
  PingMessage,
  RoomsMessage,
  PresenceActivityMessage,
  AnimationPlayedMessage,
]);
export type ClientMessage = z.infer<typeof ClientMessage>;
export type ClientMessageType = ClientMessage['type'];
export const CLIENT_MESSAGE_TYPES = ClientMessage.options.map(
  (o) => o.shape.type.value,
) as ClientMessageType[];

/** Codes of `error` frames. */
export const WsErrorCode = z.enum([
  'BAD_FRAME',
  'UNKNOWN_TYPE',
  'VALIDATION_FAILED',
  'NOT_A_MEMBER',
  'MEMBERSHIP_UNAVAILABLE',
  'TOO_MANY_ROOMS',
  'NOT_IN_ROOM',
  'REPLAY_FAILED',
  'AUTH_TOKEN_MISSING',
  'AUTH_TOKEN_EXPIRED',
  'AUTH_TOKEN_INVALID',
  'AUTH_ALGORITHM_NOT_ALLOWED',
  'AUTH_CLAIM_INVALID',
  'AUTH_USER_MISMATCH',
]);
export type WsErrorCode = z.infer<typeof WsErrorCode>;

export const ConnectedFrame = z.object({
  type: z.literal('connected'),
  data: z.object({
    userId: Id,
    connectionId: z.string(),
    edgeId: z.string(),
    /** The server pings this often; a client that sends nothing may use it to detect a dead link. */
    heartbeatIntervalMs: z.number().int().positive(),
    serverTime: z.iso.datetime({ offset: true }),
    /** When the token expires, epoch ms: send `auth:refresh` before. */
    tokenExpiresAt: z.number().int().nullable(),
    rooms: z.array(Room),
    /**
     * The resume point of each automatic room joined without one (no `?userLastSeq=` /
     * `?globalLastSeq=`): the room's stream sequence when its live delivery began, 0 when the stream
     * holds none of it. A client that has seen no event of the room keeps it as its lastSeq, so a
     * reconnect replays what was published while it was away. Absent for a room the edge could
     * not read (the client then has no resume point, as before).
     */
    seqs: z.record(Room, z.number().int().nonnegative()).optional(),
    encoding: z.enum(['json', 'msgpack']),
  }),
});

export const AckFrame = z.object({
  type: z.literal('ack'),
  id: z.string().optional(),
  /** The request type acknowledged. */
  for: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
});

export const ErrorFrame = z.object({
  type: z.literal('error'),
  id: z.string().optional(),
  code: WsErrorCode,
  message: z.string(),
  room: Room.optional(),
});

/** One room event as a client sees it: the envelope plus the room and its seq/prevSeq chain. */
export const RoomFrame = z.intersection(
  RoomEvent,
  z.object({
    room: Room,
    /** Stream sequence of this event. */
    seq: z.number().int().positive(),
    /** The previous event's seq in the same room (0 if none): a client sees a gap at once. */
    prevSeq: z.number().int().nonnegative(),
  }),
);
export type RoomFrame = z.infer<typeof RoomFrame>;

/** Several events of one room coalesced within the batching window, in seq order. */
export const BatchFrame = z.object({
  type: z.literal('batch'),
  room: Room,
  events: z.array(RoomFrame).min(1),
});

export const ClubJoinedFrame = z.object({
  type: z.literal('club:joined'),
  data: z.object({ clubId: Id, timestamp: z.iso.datetime({ offset: true }) }),
});
export const GameJoinedFrame = z.object({
  type: z.literal('game:joined'),
  data: z.object({ gameId: Id, timestamp: z.iso.datetime({ offset: true }) }),
});

/** The stream no longer holds the events after `lastSeq`: reload the room by REST. Live continues. */
export const ResyncRequiredFrame = z.object({
  type: z.literal('resync:required'),
  room: Room,
  data: z.object({ lastSeq: z.number().int().nonnegative(), reason: z.string() }),
});

/** The edge removed this connection from a room (membership revoked). */
export const RoomLeftFrame = z.object({
  type: z.literal('room:left'),
  room: Room,
  data: z.object({ reason: z.enum(['membership_revoked']) }),
});

export const PongFrame = z.object({
  type: z.literal('pong'),
  id: z.string().optional(),
  data: z.object({ serverTime: z.iso.datetime({ offset: true }) }),
});

/** Sent before a graceful shutdown: reconnect (to any edge) after `reconnectAfterMs`. */
export const ServerDrainingFrame = z.object({
  type: z.literal('server:draining'),
  data: z.object({ reconnectAfterMs: z.number().int().nonnegative() }),
});

export const ServerFrame = z.union([
  ConnectedFrame,
  AckFrame,
  ErrorFrame,
  BatchFrame,
  ClubJoinedFrame,
  GameJoinedFrame,
  ResyncRequiredFrame,
  RoomLeftFrame,
  PongFrame,
  ServerDrainingFrame,
  RoomFrame,
]);
export type ServerFrame = z.infer<typeof ServerFrame>;
export type ConnectedFrame = z.infer<typeof ConnectedFrame>;
export type AckFrame = z.infer<typeof AckFrame>;
export type ErrorFrame = z.infer<typeof ErrorFrame>;
export type BatchFrame = z.infer<typeof BatchFrame>;
export type ResyncRequiredFrame = z.infer<typeof ResyncRequiredFrame>;
export type ServerDrainingFrame = z.infer<typeof ServerDrainingFrame>;
