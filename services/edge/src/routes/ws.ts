import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AuthError, bearerToken, type TokenVerifier } from '@crowncast/auth';
import { CloseCode, WS_SUBPROTOCOL_MSGPACK } from '@crowncast/protocol';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Admitted, Gateway } from '../conn/gateway.js';
import type { EdgeSocket } from '../conn/socket.js';

type Handshake = { ok: true; admitted: Admitted } | { ok: false; code: number; reason: string };

declare module 'fastify' {
  interface FastifyRequest {
    handshake?: Handshake;
  }
}

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
 * GET /ws: the client socket. Checks run before the upgrade; a refused client still gets the
 * upgrade and then a close with the documented code and no data frame, because browsers hide HTTP
 * status codes of failed WebSocket handshakes.
 */
export const wsRoutes: FastifyPluginAsync<WsRouteOptions> = async (app, o) => {
  const origins = new Set(o.allowedOrigins);
  const log = app.log.child({ component: 'ws' });
  // One listener for all sockets (a closure per socket is memory per connection).
  function onSocketError(err: Error) {
    log.debug({ err: err.message }, 'socket error');
  }

  async function check(req: FastifyRequest): Promise<Handshake> {
    const origin = req.headers.origin;
    if (origins.size > 0 && origin !== undefined && !origins.has(origin)) {
      return { ok: false, code: CloseCode.ORIGIN_NOT_ALLOWED, reason: 'ORIGIN_NOT_ALLOWED' };
    }
    const q = Query.safeParse(req.query);
    if (!q.success) return { ok: false, code: CloseCode.AUTH_FAILED, reason: 'BAD_QUERY' };
    const token = bearerToken(req.headers.authorization) ?? q.data.token ?? null;
    try {
      const t = await o.verify(token);
      const encoding = req.headers['sec-websocket-protocol']
        ?.split(',')
        .map((s) => s.trim())
        .includes(WS_SUBPROTOCOL_MSGPACK)
        ? 'msgpack'
        : 'json';
      const resume: Admitted['resume'] = {};
      if (q.data.userLastSeq !== undefined) resume.user = q.data.userLastSeq;
      if (q.data.globalLastSeq !== undefined) resume.global = q.data.globalLastSeq;
      return { ok: true, admitted: { userId: t.userId, expiresAt: t.expiresAt, encoding, resume } };
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      return err.code === 'AUTH_TOKEN_EXPIRED'
        ? { ok: false, code: CloseCode.AUTH_TOKEN_EXPIRED, reason: err.code }
        : { ok: false, code: CloseCode.AUTH_FAILED, reason: err.code };
    }
  }

  app.get(
    '/ws',
    {
      websocket: true,
      // A request line per connection is a log write per connect in a storm; failures still log.
      logLevel: 'warn',
      preValidation: async (req) => {
        req.handshake = await check(req);
      },
    },
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
      const h = req.handshake;
      if (!h?.ok) {
        o.gateway.refuse(socket, h?.code ?? CloseCode.AUTH_FAILED, h?.reason ?? 'AUTH_FAILED');
        return;
      }
      // app.ts gives ws the EdgeSocket class, so every socket here is one.
      o.gateway.accept(socket as EdgeSocket, h.admitted);
    },
  );
};
