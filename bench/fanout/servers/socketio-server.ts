import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { answerYoungGeneration } from './heap-report.js';

/**
 * What the product spec proposed: Socket.IO with the Redis adapter. Events come in through Redis
 * (published by another Socket.IO node, as the spec's API servers would) and each socket joins the
 * room named in its handshake query.
 */
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const key = process.env.SIO_KEY ?? 'socket.io';
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const http = createServer();
const io = new Server(http, { adapter: createAdapter(pub, sub, { key }), serveClient: false });

io.on('connection', (socket) => {
  const room = socket.handshake.query.room;
  void socket.join(typeof room === 'string' ? room : 'big');
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
