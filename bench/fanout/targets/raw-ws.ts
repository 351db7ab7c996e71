import type { ToRawServer } from '../ipc.js';
import { forkServer } from '../servers/fork-server.js';
import { FrameMaker, type RoomRef, roomName, type Target } from './target.js';

/** The raw ws reference: the orchestrator stamps each event and hands it to the server over IPC. */
export async function startRawWs(): Promise<Target> {
  const server = await forkServer('./raw-server.ts');
  const frames = new FrameMaker();
  return {
    name: 'raw_ws',
    kind: 'raw',
    url: `ws://127.0.0.1:${server.port}/`,
    pid: server.proc.pid!,
    youngKb: () => server.youngKb(),
    roomPrefix: 'r',
    userPrefix: '',
    async prepare() {},
    publish(to: RoomRef, phase: number) {
      const room = roomName(to, 'r');
      const msg: ToRawServer = { op: 'pub', room, payload: JSON.stringify(frames.make(room, phase)) };
      server.proc.send(msg);
    },
    async flush() {},
    stop: () => server.stop(),
  };
}
