import { liveSequence } from '@crowncast/bus';
import { type Room, RoomEvent } from '@crowncast/protocol';
import type { Msg } from '@nats-io/transport-node';

/** A validated room event with its place in the room's chain. Field order is the wire order. */
export interface LiveEvent {
  type: RoomEvent['type'];
  id: string;
  room: Room;
  seq: number;
  prevSeq: number;
  ts: string;
  data: unknown;
  /** Event timestamp, epoch ms (for the latency metric; not sent). */
  tsMs: number;
}

export type Parsed = { ok: true; event: LiveEvent } | { ok: false; reason: 'headers' | 'json' | 'schema' };

/** Parses and validates one room payload; nothing that fails here may reach a socket. */
export function parseEnvelope(room: Room, payload: Uint8Array, seq: number, prevSeq: number): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    return { ok: false, reason: 'json' };
  }
  const r = RoomEvent.safeParse(raw);
  if (!r.success) return { ok: false, reason: 'schema' };
  const e = r.data;
  return {
    ok: true,
    event: { type: e.type, id: e.id, room, seq, prevSeq, ts: e.ts, data: e.data, tsMs: Date.parse(e.ts) },
  };
}

/** A live message republished by the ROOMS stream (seq/prevSeq from its headers). */
export function parseLive(room: Room, msg: Msg): Parsed {
  const s = liveSequence(msg);
  if (!s) return { ok: false, reason: 'headers' };
  return parseEnvelope(room, msg.data, s.seq, s.prevSeq);
}

/** The frame a client receives for one event (the internal tsMs stays out). */
export function wireEvent(e: LiveEvent): Omit<LiveEvent, 'tsMs'> {
  return { type: e.type, id: e.id, room: e.room, seq: e.seq, prevSeq: e.prevSeq, ts: e.ts, data: e.data };
}
