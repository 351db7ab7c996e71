import { randomBytes } from 'node:crypto';
import { CloseCode, type Room } from '@crowncast/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { Encoding } from '../fanout/frames.js';
import { type ConnectionShared, EdgeConnection } from './connection.js';
import { handleMessage, type MessageDeps, sendError } from './messages.js';
import { joinRoom, leaveRoom } from './rooms.js';
import type { EdgeSocket } from './socket.js';

const CLOSE_HANDSHAKE_WAIT_MS = 1000;
/** Ticks per heartbeat interval over which the protocol pings are spread. */
const PING_SLICES = 20;
/** A token that expires unrefreshed closes its connection within this time (4003). */
const EXPIRY_SWEEP_MS = 1000;

export interface GatewayOptions {
  edgeId: string;
  heartbeatIntervalMs: number;
  maxConnectionsPerUser: number;
  sendBufferMaxBytes: number;
  sendMaxLagMs: number;
  messagesPerMin: number;
  log: FastifyBaseLogger;
}

/** A connection that passed the handshake checks (origin, token). */
export interface Admitted {
  userId: string;
  expiresAt: number | null;
  encoding: Encoding;
  /** Resume points for the rooms joined automatically (`?userLastSeq=`, `?globalLastSeq=`). */
  resume: Partial<Record<'user' | 'global', number>>;
}

export type Gateway = ReturnType<typeof createGateway>;

/**
 * Every connection this edge holds: accept (connection limits, automatic rooms, `connected`), the
 * message loop (rate limit), protocol heartbeats, membership revocation and the drain on shutdown.
 */
export function createGateway(d: MessageDeps, o: GatewayOptions) {
  // A Set, not a Map by id: nothing looks a connection up by id, and a Set's entry is a third smaller.
  const conns = new Set<EdgeConnection>();
  // A user's connections: the connection itself while it is the only one (most users have one
  // device online; a Set per user is memory per connection), a Set from the second on.
  const byUser = new Map<string, EdgeConnection | Set<EdgeConnection>>();
  const connsOf = (userId: string): Iterable<EdgeConnection> => {
    const mine = byUser.get(userId);
    return mine === undefined ? [] : mine instanceof Set ? mine : [mine];
  };
  // Sockets in their close handshake (refused, or closed by the edge): ws keeps one until the peer
  // answers or 30 s pass, and the HTTP server's close waits for it. Shutdown cuts them instead. (ws's
  // own client set, which did this, is off: it cost a closure per socket.)
  const closing = new Set<WebSocket>();
  function forgetClosed(this: WebSocket) {
    closing.delete(this);
  }
  const closingNow = (socket: WebSocket) => {
    if (socket.readyState === socket.CLOSED || closing.has(socket)) return;
    closing.add(socket);
    socket.once('close', forgetClosed);
  };
  const refuse = (socket: WebSocket, code: number, reason: string) => {
    d.metrics.closes.inc({ code: String(code) });
    closingNow(socket);
    socket.close(code, reason);
  };
  let draining = false;
  let serial = 0;
  const onClosed = (c: EdgeConnection) => {
    conns.delete(c);
    closingNow(c.socket);
    const mine = byUser.get(c.userId);
    if (mine === c) byUser.delete(c.userId);
    else if (mine instanceof Set) {
      mine.delete(c);
      if (mine.size === 1) byUser.set(c.userId, mine.values().next().value as EdgeConnection);
    }
    for (const room of [...c.rooms]) leaveRoom(d, c, room);
    d.metrics.connections.set(conns.size);
    d.presence.disconnected(c.presence());
  };

  // Protocol pings spread over the interval, a slice of the connections per tick: pinging 10,000
  // sockets in one tick stalled delivery. Each socket is visited once per pass (one interval); no
  // pong since its last visit: the peer is gone (or too stuck to matter).
  let pass = conns.values();
  let visited = 0;
  let perTick = 1;
  const heartbeat = setInterval(
    () => {
      if (visited === 0) perTick = Math.max(1, Math.ceil(conns.size / PING_SLICES));
      for (let n = 0; n < perTick; n++) {
        const next = pass.next();
        if (next.done) {
          pass = conns.values();
          visited = 0;
          return;
        }
        visited++;
        const c = next.value;
        if (!c.alive) {
          c.terminate('heartbeat_timeout');
          continue;
        }
        c.alive = false;
        c.socket.ping();
      }
    },
    Math.max(1, Math.floor(o.heartbeatIntervalMs / PING_SLICES)),
  );
  heartbeat.unref();

  // Expired tokens: one sweep for the edge instead of a timer per connection (memory per connection).
  const expirySweep = setInterval(() => {
    const now = Date.now();
    for (const c of conns.values()) c.closeIfExpired(now);
  }, EXPIRY_SWEEP_MS);
  expirySweep.unref();

  function onMessage(c: EdgeConnection, data: Buffer, isBinary: boolean) {
    d.metrics.framesIn.inc();
    if (!c.countMessage()) {
      c.close(CloseCode.RATE_LIMITED, 'RATE_LIMITED');
      return;
    }
    handleMessage(d, c, data, isBinary).catch((err: Error) => {
      o.log.error({ err, connectionId: c.id }, 'message handling failed');
      sendError(c, d, 'BAD_FRAME', 'the message could not be handled');
    });
  }
  // Shared by every connection (a field or closure per connection is memory per connection).
  const shared: ConnectionShared = {
    sendBufferMaxBytes: o.sendBufferMaxBytes,
    sendMaxLagMs: o.sendMaxLagMs,
    messagesPerMin: o.messagesPerMin,
    idPrefix: `${randomBytes(6).toString('hex')}-`,
    metrics: d.metrics,
    onMessage,
    onClosed,
  };

  /**
   * The automatic rooms. Those without a resume point are subscribed before `connected`, so
   * `connected` means live delivery has begun; resumed ones replay right after it.
   */
  async function start(c: EdgeConnection, a: Admitted, welcomed: () => void) {
    const auto: [Room, number | undefined][] = [
      [`user:${a.userId}`, a.resume.user],
      ['global', a.resume.global],
    ];
    const join = (room: Room, lastSeq: number | undefined) =>
      joinRoom(d, c, room, lastSeq, { checkMembership: false });
    // The resume points of the rooms joined fresh: without them a client that saw no event of its
    // private room before a reconnect would miss what was published to it meanwhile.
    const seqs: Partial<Record<Room, number>> = {};
    for (const r of await Promise.all(
      auto.filter(([, s]) => s === undefined).map(([r]) => join(r, undefined)),
    )) {
      if (r.ok && r.seq !== undefined) seqs[r.room] = r.seq;
    }
    c.send({
      type: 'connected',
      data: {
        userId: a.userId,
        connectionId: c.id,
        edgeId: o.edgeId,
        heartbeatIntervalMs: o.heartbeatIntervalMs,
        serverTime: new Date().toISOString(),
        tokenExpiresAt: a.expiresAt,
        rooms: auto.map(([r]) => r),
        seqs,
        encoding: a.encoding,
      },
    });
    welcomed();
    d.presence.connected(c.presence());
    await Promise.all(auto.filter(([, s]) => s !== undefined).map(([r, s]) => join(r, s)));
  }

  return {
    get draining() {
      return draining;
    },
    size: () => conns.size,
    /**
     * Makes the socket a connection and joins its automatic rooms; resolves once `connected` is sent
     * (or the connection failed), so the caller can hold the client's frames until then.
     */
    accept(socket: EdgeSocket, a: Admitted): Promise<void> {
      if (draining) {
        refuse(socket, CloseCode.SERVER_DRAINING, 'SERVER_DRAINING');
        return Promise.resolve();
      }
      const mine = byUser.get(a.userId);
      const count = mine === undefined ? 0 : mine instanceof Set ? mine.size : 1;
      if (count >= o.maxConnectionsPerUser) {
        refuse(socket, CloseCode.TOO_MANY_CONNECTIONS, 'TOO_MANY_CONNECTIONS');
        return Promise.resolve();
      }
      const c = new EdgeConnection(++serial, a.userId, a.encoding, socket, shared);
      conns.add(c);
      if (mine === undefined) byUser.set(a.userId, c);
      else if (mine instanceof Set) mine.add(c);
      else byUser.set(a.userId, new Set([mine, c]));
      d.metrics.connections.set(conns.size);
      c.setTokenExpiry(a.expiresAt);
      return new Promise<void>((welcomed) => {
        start(c, a, welcomed)
          .catch((err: Error) => {
            o.log.error({ err, connectionId: c.id }, 'joining the automatic rooms failed');
            c.close(1011, 'INTERNAL');
          })
          .finally(welcomed);
      });
    },
    /** The ledger removed a member: take the user out of the room on this edge now. */
    revoke(userId: string, room: Room): void {
      for (const c of connsOf(userId)) {
        if (leaveRoom(d, c, room)) {
          c.send({ type: 'room:left', room, data: { reason: 'membership_revoked' } });
          d.presence.roomsChanged(c.presence());
        }
      }
    },
    connections: () => [...conns.values()],
    /**
     * Graceful drain: every client hears `server:draining` with its own random delay within
     * `spreadMs`, and is closed (4012) at that moment, so reconnects spread over the window.
     */
    drain(spreadMs: number): Promise<void> {
      draining = true;
      const closing = [...conns.values()].map(
        (c) =>
          new Promise<void>((resolve) => {
            const delay = Math.floor(Math.random() * spreadMs);
            c.send({ type: 'server:draining', data: { reconnectAfterMs: delay } });
            setTimeout(() => {
              // Wait (boundedly) for the client's close reply so the code reaches it before exit.
              const t = setTimeout(resolve, CLOSE_HANDSHAKE_WAIT_MS);
              c.socket.once('close', () => {
                clearTimeout(t);
                resolve();
              });
              c.close(CloseCode.SERVER_DRAINING, 'SERVER_DRAINING');
            }, delay);
          }),
      );
      return Promise.all(closing).then(() => undefined);
    },
    /** A socket turned away before it became a connection (bad token, origin): closed with `code`. */
    refuse,
    close(): void {
      clearInterval(heartbeat);
      clearInterval(expirySweep);
      for (const c of conns.values()) c.terminate('shutdown');
      for (const socket of closing) socket.terminate();
    },
  };
}
