import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AuthError, bearerToken, type TokenVerifier } from '@crowncast/auth';
import { CloseCode, WS_SUBPROTOCOL_MSGPACK } from '@crowncast/protocol';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Admitted, Gateway } from '../conn/gateway.js';
import type { EdgeSocket } from '../conn/socket.js';

/** What the request says, read before anything waits: the request itself is not kept. */
type Handshake =
  | { ok: true; token: string | null; encoding: Admitted['encoding']; resume: Admitted['resume'] }
  | { ok: false; code: number; reason: string };

const Query = z.object({
  token: z.string().max(8192).optional(),
  userLastSeq: z.coerce.number().int().nonnegative().optional(),
  globalLastSeq: z.coerce.number().int().nonnegative().optional(),
});

export interface WsRouteOptions {
  gateway: Gateway;
  verify: TokenVerifier;
  allowedOrigins: string[];
}

/**
 * GET /ws: the client socket. A refused client still gets the upgrade and then a close with the
 * documented code and no data frame, because browsers hide HTTP status codes of failed WebSocket
 * handshakes. So the token is verified after the upgrade, not before it: the HTTP request (Fastify's
 * request and reply, the raw request and its headers) is garbage as soon as the handler returns,
 * instead of living through the verification, which waits on the crypto thread pool (or a JWKS
 * fetch). In a connect storm thousands of them waited at once, outlived young-generation
 * collections and were promoted: old-space memory the edge kept after the storm.
 */
export const wsRoutes: FastifyPluginAsync<WsRouteOptions> = async (app, o) => {
  const origins = new Set(o.allowedOrigins);
  const log = app.log.child({ component: 'ws' });
  // One listener for all sockets (a closure per socket is memory per connection).
  function onSocketError(err: Error) {
    log.debug({ err: err.message }, 'socket error');
  }

  function read(req: FastifyRequest): Handshake {
    const origin = req.headers.origin;
    if (origins.size > 0 && origin !== undefined && !origins.has(origin)) {
      return { ok: false, code: CloseCode.ORIGIN_NOT_ALLOWED, reason: 'ORIGIN_NOT_ALLOWED' };
    }
    const q = Query.safeParse(req.query);
    if (!q.success) return { ok: false, code: CloseCode.AUTH_FAILED, reason: 'BAD_QUERY' };
    const encoding = req.headers['sec-websocket-protocol']
      ?.split(',')
      .map((s) => s.trim())
      .includes(WS_SUBPROTOCOL_MSGPACK)
      ? 'msgpack'
      : 'json';
    const resume: Admitted['resume'] = {};
    if (q.data.userLastSeq !== undefined) resume.user = q.data.userLastSeq;
    if (q.data.globalLastSeq !== undefined) resume.global = q.data.globalLastSeq;
    return {
      ok: true,
      token: bearerToken(req.headers.authorization) ?? q.data.token ?? null,
      encoding,
      resume,
    };
  }

  /**
   * Verifies the token with the socket open but paused: a client's frames wait unread (in the
   * socket's buffer, then the kernel's) until it is refused, or admitted and sent `connected`, so
   * every answer comes after `connected`.
   */
  async function admit(socket: EdgeSocket, tcp: Socket, h: Extract<Handshake, { ok: true }>) {
    tcp.pause();
    let admitted: Admitted | null = null;
    try {
      const t = await o.verify(h.token);
      admitted = { userId: t.userId, expiresAt: t.expiresAt, encoding: h.encoding, resume: h.resume };
    } catch (err) {
      if (!(err instanceof AuthError)) {
        log.error({ err }, 'token verification failed');
        o.gateway.refuse(socket, 1011, 'INTERNAL');
      } else if (err.code === 'AUTH_TOKEN_EXPIRED') {
        o.gateway.refuse(socket, CloseCode.AUTH_TOKEN_EXPIRED, err.code);
      } else {
        o.gateway.refuse(socket, CloseCode.AUTH_FAILED, err.code);
      }
    }
    // The client may have gone while its token was checked.
    if (admitted && socket.readyState === socket.OPEN) await o.gateway.accept(socket, admitted);
    tcp.resume();
  }

  app.get(
    '/ws',
    // A request line per connection is a log write per connect in a storm; failures still log.
    { websocket: true, logLevel: 'warn' },
    (socket, req) => {
      // @fastify/websocket's own error listener closes over the Fastify request and reply (and
      // through them the raw HTTP request, its headers and a child logger), which kept them alive
      // for the socket's whole life: several KB per connection for nothing. Ours holds nothing.
      socket.removeAllListeners('error');
      socket.on('error', onSocketError);
      // It also routes the upgrade through Fastify with a ServerResponse assigned to the TCP socket
      // (socket._httpMessage), which kept that response, the Fastify request and reply, the raw
      // request with its headers and a child logger alive as long as the socket: ~2 KB per connection.
      const tcp = req.raw.socket as Socket & { _httpMessage?: ServerResponse | null };
      tcp._httpMessage?.detachSocket(tcp);
      const h = read(req);
      if (!h.ok) {
        o.gateway.refuse(socket, h.code, h.reason);
        return;
      }
      // app.ts gives ws the EdgeSocket class, so every socket here is one.
      admit(socket as EdgeSocket, tcp, h).catch((err: Error) => {
        log.error({ err }, 'admitting a socket failed');
        socket.terminate();
      });
    },
  );
};
