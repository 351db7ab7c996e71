import type { Socket } from 'node:net';
import * as wsModule from 'ws';
import { WebSocketServer } from 'ws';
import type { ToRawServer } from '../ipc.js';
import { answerYoungGeneration } from './heap-report.js';

/**
 * The reference: the least a WebSocket broadcast server can do. Each event is framed once (ws's
 * Sender.frame, the pinned ws 8.18.3) and the same bytes are written to every socket of the room.
 * No auth, no bus, no heartbeats: the limit of this machine, not a product.
 */

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}
// @types/ws does not declare Sender; ws exports it and Sender.frame is what the edge uses too.
const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, o: FrameOptions): Buffer[] } };

const rooms = new Map<string, Set<Socket>>();
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });

wss.on('connection', (ws, req) => {
  const room = new URL(req.url ?? '/', 'http://x').searchParams.get('room') ?? 'big';
  // The raw TCP socket: broadcast bytes bypass ws's per-send framing.
  const sock = (ws as unknown as { _socket: Socket })._socket;
  const members = rooms.get(room) ?? new Set<Socket>();
  rooms.set(room, members);
  members.add(sock);
  ws.on('error', () => {});
  ws.on('close', () => members.delete(sock));
});

process.on('message', (msg: ToRawServer) => {
  if (msg.op !== 'pub') return;
  const members = rooms.get(msg.room);
  if (!members) return;
  const frame = Buffer.concat(
    Sender.frame(Buffer.from(msg.payload), {
      fin: true,
      opcode: 1,
      mask: false,
      readOnly: false,
      rsv1: false,
    }),
  );
  for (const s of members) s.write(frame);
});

wss.on('listening', () => {
  const addr = wss.address();
  if (typeof addr === 'object' && addr) process.send?.({ op: 'listening', port: addr.port });
});
answerYoungGeneration();
process.on('disconnect', () => process.exit(0));
