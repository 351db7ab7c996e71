import type { Room, RoomFrame } from '@crowncast/protocol';

/** What the tracker decided about one room frame. */
export type Verdict =
  | { deliver: true; gap: null | { lastSeq: number; seq: number } }
  | { deliver: false; why: 'duplicate_id' | 'old_seq' };

/**
 * Remembers, per room, the seq of the last event handed to the app, and a bounded window of event
 * ids. A frame is handed on once: a seq at or below the room's last one, or an id already seen, is
 * dropped. A prevSeq that does not name the last seq is a gap (something was lost in between): the
 * frame is still handed on and the caller tells the app to reload that room by REST.
 */
export class RoomTracker {
  private readonly lastSeq = new Map<Room, number>();
  private readonly seen = new Set<string>();
  private readonly order: string[] = [];

  constructor(private readonly window = 2000) {}

  check(frame: RoomFrame): Verdict {
    if (this.seen.has(frame.id)) return { deliver: false, why: 'duplicate_id' };
    const last = this.lastSeq.get(frame.room);
    if (last !== undefined && frame.seq <= last) return { deliver: false, why: 'old_seq' };
    this.remember(frame.id);
    this.lastSeq.set(frame.room, frame.seq);
    const gap = last !== undefined && frame.prevSeq !== last ? { lastSeq: last, seq: frame.seq } : null;
    return { deliver: true, gap };
  }

  /** The seq to resume the room from, if any event of it was seen. */
  seqOf(room: Room): number | undefined {
    return this.lastSeq.get(room);
  }

  /** Sets a resume point the app kept (e.g. across page loads). */
  setSeq(room: Room, seq: number): void {
    this.lastSeq.set(room, seq);
  }

  /** The edge says it continues live from now: the next frame starts a new chain. */
  restart(room: Room): void {
    this.lastSeq.delete(room);
  }

  private remember(id: string): void {
    this.seen.add(id);
    this.order.push(id);
    if (this.order.length > this.window) this.seen.delete(this.order.shift() as string);
  }
}
