import { AuthError, type TokenVerifier } from '@crowncast/auth';
import { CLIENT_MESSAGE_TYPES, ClientMessage, type Room, type WsErrorCode } from '@crowncast/protocol';
import { unpack } from 'msgpackr';
import type { Analytics } from '../analytics.js';
import type { Presence } from '../presence.js';
import type { EdgeConnection } from './connection.js';
import { joinRoom, leaveRoom, type RoomDeps } from './rooms.js';

export interface MessageDeps extends RoomDeps {
  verify: TokenVerifier;
  presence: Presence;
  analytics: Analytics;
}

const KNOWN = new Set<string>(CLIENT_MESSAGE_TYPES);

export function sendError(
  conn: EdgeConnection,
  d: RoomDeps,
  code: WsErrorCode,
  message: string,
  extra: { id?: string | undefined; room?: Room } = {},
) {
  d.metrics.clientErrors.inc({ code });
  conn.send({
    type: 'error',
    ...(extra.id ? { id: extra.id } : {}),
    code,
    message,
    ...(extra.room ? { room: extra.room } : {}),
  });
}

/** Marks a frame that did not decode (already answered with BAD_FRAME). */
const UNDECODABLE = Symbol('undecodable');

/**
 * Decodes one inbound frame; UNDECODABLE (after answering BAD_FRAME) when it is not a message at
 * all. A sentinel, not null: `null` is valid JSON and must reach the shape check to be answered.
 */
function decode(conn: EdgeConnection, d: RoomDeps, data: Buffer, isBinary: boolean): unknown {
  try {
    if (isBinary) {
      if (conn.encoding !== 'msgpack') throw new Error('binary frames need the msgpack subprotocol');
      return unpack(data);
    }
    return JSON.parse(data.toString('utf8'));
  } catch (err) {
    sendError(
      conn,
      d,
      'BAD_FRAME',
      `the frame is not ${isBinary ? 'MessagePack' : 'JSON'}: ${(err as Error).message}`.slice(0, 200),
    );
    return UNDECODABLE;
  }
}

/** Handles one client frame. Every request gets an ack or an error carrying its id. */
export async function handleMessage(
  d: MessageDeps,
  conn: EdgeConnection,
  data: Buffer,
  isBinary: boolean,
): Promise<void> {
  const raw = decode(conn, d, data, isBinary);
  if (raw === UNDECODABLE) return;
  const head = raw as { type?: unknown; id?: unknown } | null;
  const id = typeof head?.id === 'string' ? head.id.slice(0, 64) : undefined;
  if (typeof raw !== 'object' || head === null || typeof head.type !== 'string') {
    return sendError(conn, d, 'BAD_FRAME', 'a message is an object with a string "type"', { id });
  }
  if (!KNOWN.has(head.type)) {
    return sendError(conn, d, 'UNKNOWN_TYPE', `unknown message type "${head.type.slice(0, 64)}"`, { id });
  }
  const parsed = ClientMessage.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`);
    return sendError(conn, d, 'VALIDATION_FAILED', issues.join('; ').slice(0, 500), { id });
  }
  const msg = parsed.data;
  const ack = (data?: Record<string, unknown>): void => {
    conn.send({ type: 'ack', ...(msg.id ? { id: msg.id } : {}), for: msg.type, ...(data ? { data } : {}) });
  };

  switch (msg.type) {
    case 'club:join':
    case 'game:join': {
      const isClub = msg.type === 'club:join';
      const target = isClub
        ? (msg.data as { clubId: string }).clubId
        : (msg.data as { gameId: string }).gameId;
      const room: Room = `${isClub ? 'club' : 'game'}:${target}`;
      const r = await joinRoom(d, conn, room, msg.data.lastSeq, { checkMembership: true });
      if (!r.ok) return sendError(conn, d, r.code, r.message, { id: msg.id, room });
      ack({
        room,
        alreadyJoined: r.alreadyJoined,
        replayed: r.replayed,
        resync: r.resync,
        ...(r.seq === undefined ? {} : { seq: r.seq }),
      });
      const timestamp = new Date().toISOString();
      conn.send(
        isClub
          ? { type: 'club:joined', data: { clubId: target, timestamp } }
          : { type: 'game:joined', data: { gameId: target, timestamp } },
      );
      if (!r.alreadyJoined) d.presence.roomsChanged(conn.presence());
      return;
    }
    case 'club:leave':
    case 'game:leave': {
      const room: Room = msg.type === 'club:leave' ? `club:${msg.data.clubId}` : `game:${msg.data.gameId}`;
      const was = leaveRoom(d, conn, room);
      ack({ room, wasMember: was });
      if (was) d.presence.roomsChanged(conn.presence());
      return;
    }
    case 'auth:refresh': {
      try {
        const t = await d.verify(msg.data.token);
        if (t.userId !== conn.userId) {
          return sendError(conn, d, 'AUTH_USER_MISMATCH', 'the new token is for another user', {
            id: msg.id,
          });
        }
        conn.setTokenExpiry(t.expiresAt);
        return ack({ expiresAt: t.expiresAt });
      } catch (err) {
        if (err instanceof AuthError) return sendError(conn, d, err.code, err.message, { id: msg.id });
        throw err;
      }
    }
    case 'ping':
      conn.send({
        type: 'pong',
        ...(msg.id ? { id: msg.id } : {}),
        data: { serverTime: new Date().toISOString() },
      });
      return;
    case 'rooms':
      return ack({ rooms: [...conn.rooms] });
    case 'presence:activity':
      d.presence.activity(conn.presence());
      return ack();
    case 'gift:animation:played':
      d.analytics.animationPlayed(conn.userId, msg.data);
      return ack();
  }
}
