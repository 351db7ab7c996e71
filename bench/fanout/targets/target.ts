import { randomBytes } from 'node:crypto';
import type { TargetName } from '../config.js';
import { giftEvent, marker, nowMs } from '../event.js';
import type { ClientKind } from '../ipc.js';

export type { TargetName };

/** Where an event goes: the one big room or room n of the many-rooms workload. */
export type RoomRef = { big: true } | { big: false; index: number };

/** One server under test, as the workloads drive it. */
export interface Target {
  name: TargetName;
  kind: ClientKind;
  /** ws:// URL the clients open (without query). */
  url: string;
  /** The server process whose RSS is measured. */
  pid: number;
  /** The size of the server's V8 young generation, KB. */
  youngKb(): Promise<number>;
  roomPrefix: string;
  userPrefix: string;
  /** Anything the rooms need before clients join them (Crowncast: users, clubs, members). */
  prepare(connections: number, rooms: number): Promise<void>;
  /** Stamps and sends one event into a room. */
  publish(to: RoomRef, phase: number): void;
  /** Latencies (ms) of the bus hop alone since the last call, where the target has a bus to watch. */
  busLatencies?(): number[];
  /** Waits until events already published have left the publisher (bounded). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Room frames for the reference servers, in the edge's frame shape `{ type, id, room, seq, prevSeq,
 * ts, data }` with the same payload and an id as long as the Crowncast target's, so every server
 * moves the same bytes per event (without `id` the references' frames were ~46 bytes, 6 %, smaller).
 */
export class FrameMaker {
  private readonly seqs = new Map<string, number>();
  private seq = 0;
  private readonly runId = randomBytes(5).toString('hex');

  make(room: string, phase: number): Record<string, unknown> {
    const prevSeq = this.seqs.get(room) ?? 0;
    const seq = ++this.seq;
    this.seqs.set(room, seq);
    const ev = giftEvent(`bench-${this.runId}-${seq}`, room, marker(phase, nowMs()));
    return { type: ev.type, id: ev.id, room: `club:${room}`, seq, prevSeq, ts: ev.ts, data: ev.data };
  }
}

export function roomName(to: RoomRef, prefix: string): string {
  return to.big ? 'big' : `${prefix}${to.index}`;
}
