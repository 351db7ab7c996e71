import type { RoomFrame } from '@crowncast/protocol';
import { describe, expect, it } from 'vitest';
import { ServerClock } from '../src/clock.js';
import { type CrowncastError, qualityOf } from '../src/index.js';
import { RequestQueue } from '../src/request-queue.js';
import { RoomTracker } from '../src/room-tracker.js';

const frame = (id: string, seq: number, prevSeq: number, room = 'club:c1'): RoomFrame =>
  ({
    type: 'system:notice',
    id,
    room,
    seq,
    prevSeq,
    ts: new Date().toISOString(),
    data: { message: 'x' },
  }) as RoomFrame;

describe('room tracker', () => {
  it('hands each event once: a seen id or an old seq is dropped, also across rooms', () => {
    const t = new RoomTracker();
    expect(t.check(frame('a', 5, 0)).deliver).toBe(true);
    expect(t.check(frame('a', 5, 0))).toEqual({ deliver: false, why: 'duplicate_id' });
    expect(t.check(frame('b', 5, 4))).toEqual({ deliver: false, why: 'old_seq' });
    expect(t.check(frame('c', 3, 2))).toEqual({ deliver: false, why: 'old_seq' });
    expect(t.check(frame('a', 9, 0, 'global'))).toEqual({ deliver: false, why: 'duplicate_id' });
    expect(t.seqOf('club:c1')).toBe(5);
  });

  it('reports a gap when prevSeq does not link to the last seq, and still delivers the frame', () => {
    const t = new RoomTracker();
    t.check(frame('a', 5, 0));
    expect(t.check(frame('b', 7, 5))).toEqual({ deliver: true, gap: null });
    expect(t.check(frame('c', 12, 9))).toEqual({ deliver: true, gap: { lastSeq: 7, seq: 12 } });
    expect(t.seqOf('club:c1')).toBe(12);
  });

  it('starts a new chain after the edge says it continues live from now', () => {
    const t = new RoomTracker();
    t.check(frame('a', 5, 0));
    t.restart('club:c1');
    expect(t.check(frame('b', 40, 31))).toEqual({ deliver: true, gap: null });
  });

  it('remembers a bounded window of ids', () => {
    const t = new RoomTracker(3);
    for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) t.check(frame(id, i + 1, i, `club:r${i}`));
    // 'a' fell out of the window; a new room with it is accepted again, 'd' is still known.
    expect(t.check(frame('a', 1, 0, 'club:other')).deliver).toBe(true);
    expect(t.check(frame('d', 1, 0, 'club:other2')).deliver).toBe(false);
  });
});

describe('request queue while disconnected', () => {
  it('keeps the newest requests and refuses the oldest with QUEUE_FULL', () => {
    const q = new RequestQueue<string>(2);
    const refused: string[] = [];
    for (const m of ['m1', 'm2', 'm3'])
      q.push({
        message: m,
        resolve: () => {},
        reject: (e) => refused.push(`${m}:${(e as CrowncastError).code}`),
      });
    expect(refused).toEqual(['m1:QUEUE_FULL']);
    expect(q.drain().map((x) => x.message)).toEqual(['m2', 'm3']);
    expect(q.size).toBe(0);
  });
});

describe('connection quality and server clock', () => {
  it('grades round trips: excellent < 100 ms, good < 300 ms, fair < 1 s, else poor', () => {
    expect([0, 99, 100, 299, 300, 999, 1000, 5000].map(qualityOf)).toEqual([
      'excellent',
      'excellent',
      'good',
      'good',
      'fair',
      'fair',
      'poor',
      'poor',
    ]);
  });

  it('estimates the offset from the fastest pong, after a first guess from connected', () => {
    const c = new ServerClock();
    // The server runs 2 s ahead of this device.
    c.connected(new Date(10_000 + 2_000 + 40).toISOString(), 10_000 + 80);
    expect(c.offsetMs).toBe(1_960);
    c.pong(new Date(20_000 + 2_000 + 400).toISOString(), 20_000, 21_000); // slow: 1 s round trip, skewed
    c.pong(new Date(30_000 + 2_000 + 10).toISOString(), 30_000, 30_020); // fast: 20 ms round trip
    expect(c.offsetMs).toBe(2_000);
  });
});
