import { randomBytes } from 'node:crypto';
import { serviceUrls, TEST_JWT_SECRET } from '@crowncast/testkit';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { forkServer } from '../servers/fork-server.js';
import { FrameMaker, type RoomRef, roomName, type Target } from './target.js';

/**
 * Socket.IO with @socket.io/redis-adapter. The orchestrator is a second Socket.IO node without
 * clients: its `io.to(room).emit` goes through Redis pub/sub to the serving node, as an API server
 * would notify the socket servers in the product spec's design.
 */
export async function startSocketIo(): Promise<Target> {
  const key = `bench-sio-${randomBytes(4).toString('hex')}`;
  const server = await forkServer('./socketio-server.ts', {
    REDIS_URL: serviceUrls.redis,
    SIO_KEY: key,
    SIO_JWT_SECRET: TEST_JWT_SECRET,
  });
  const pub = new Redis(serviceUrls.redis);
  const sub = pub.duplicate();
  const io = new Server({ adapter: createAdapter(pub, sub, { key }) });
  const frames = new FrameMaker();
  return {
    name: 'socketio',
    kind: 'sio',
    url: `ws://127.0.0.1:${server.port}/socket.io/`,
    pid: server.proc.pid!,
    youngKb: () => server.youngKb(),
    roomPrefix: 'r',
    userPrefix: 'u',
    async prepare() {},
    publish(to: RoomRef, phase: number) {
      const room = roomName(to, 'r');
      io.to(room).emit('gift:received', frames.make(room, phase));
    },
    async flush() {},
    async stop() {
      // This node never listened, so io.close() has no engine to close: drop its Redis links only.
      pub.disconnect();
      sub.disconnect();
      await server.stop();
    },
  };
}
