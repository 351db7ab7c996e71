import { createServer } from 'node:http';
import { createTokenVerifier } from '@crowncast/auth';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { answerYoungGeneration } from './heap-report.js';

/**
 * What the product spec proposed: Socket.IO with the Redis adapter, and its gateway's
 * handleConnection: the client's token (`auth.token` of the Socket.IO connect) verified, the user
 * id kept on the socket, the socket in the user's private room `user:<id>`, a `connected`
 * acknowledgement. The token is verified as the edge verifies it (HS256 through jose, no cache),
 * so both pay the same for it. Events come in through Redis (published by another Socket.IO node,
 * as the spec's API servers would) and each socket also joins the room named in its handshake query.
 * Left out: the spec's per-connection database write (updateWebSocketStatus) and its log line.
 */
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const key = process.env.SIO_KEY ?? 'socket.io';
const verify = createTokenVerifier({
  secret: process.env.SIO_JWT_SECRET ?? '',
  algorithms: ['HS256'],
  cacheSize: 0,
});
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const http = createServer();
const io = new Server(http, { adapter: createAdapter(pub, sub, { key }), serveClient: false });

io.on('connection', async (socket) => {
  const auth = socket.handshake.auth as { token?: unknown };
  try {
    const t = await verify(typeof auth.token === 'string' ? auth.token : null);
    socket.data.userId = t.userId;
    const room = socket.handshake.query.room;
    await socket.join([`user:${t.userId}`, typeof room === 'string' ? room : 'big']);
    socket.emit('connected', { userId: t.userId, timestamp: new Date().toISOString() });
  } catch {
    socket.disconnect();
  }
});

http.listen(0, '127.0.0.1', () => {
  const addr = http.address();
  if (typeof addr === 'object' && addr) process.send?.({ op: 'listening', port: addr.port });
});
answerYoungGeneration();
process.on('disconnect', () => {
  void io.close();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
});
