import { describe, expect, it } from 'vitest';
import { type Animation, AnimationQueue, type Playback } from '../src/index.js';
import { ManualClock } from './support/manual-clock.js';

type Log = { id: string; at: number; seekMs: number };

function setup(opts: { offset?: number; start?: number } = {}) {
  const clock = new ManualClock(opts.start);
  const started: Log[] = [];
  const ended: string[] = [];
  const dropped: string[] = [];
  const q = new AnimationQueue<string>({
    clock,
    serverOffset: () => opts.offset ?? 0,
    onStart: (p: Playback<string>) => started.push({ id: p.animation.id, at: clock.now(), seekMs: p.seekMs }),
    onEnd: (p) => ended.push(p.animation.id),
    onDrop: (a) => dropped.push(a.id),
  });
  return { clock, q, started, ended, dropped };
}

const anim = (id: string, ts: number, durationMs = 1000): Animation<string> => ({
  id,
  ts,
  durationMs,
  item: id,
});

describe('animation queue (FR-6)', () => {
  it('plays one at a time with a 300 ms gap, the first at event ts + lead', () => {
    const { clock, q, started, ended } = setup();
    const ts = clock.now();
    q.push(anim('a', ts));
    q.push(anim('b', ts));
    q.push(anim('c', ts, 500));
    clock.advance(10_000);
    expect(started.map((s) => [s.id, s.at - ts])).toEqual([
      ['a', 250],
      ['b', 250 + 1000 + 300],
      ['c', 250 + 2 * (1000 + 300)],
    ]);
    expect(ended).toEqual(['a', 'b', 'c']);
    expect(q.playing).toBeNull();
  });

  it('holds at most 5 waiting and drops the oldest waiting one when full', () => {
    const { clock, q, started, dropped } = setup();
    const ts = clock.now();
    q.push(anim('playing', ts));
    clock.advance(300); // 'playing' has started
    for (const id of ['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7']) q.push(anim(id, clock.now()));
    expect(q.pending.map((a) => a.id)).toEqual(['w3', 'w4', 'w5', 'w6', 'w7']);
    expect(dropped).toEqual(['w1', 'w2']);
    clock.advance(60_000);
    expect(started.map((s) => s.id)).toEqual(['playing', 'w3', 'w4', 'w5', 'w6', 'w7']);
  });

  it('starts a gift at the same server moment on clients whose clocks differ', () => {
    // Two devices: B's local clock runs 5 s ahead of A's; both know their offset to the server.
    const serverTs = 2_000_000;
    const a = setup({ start: serverTs + 40, offset: 0 });
    const b = setup({ start: serverTs + 5_000 + 90, offset: -5_000 });
    a.q.push(anim('g1', serverTs));
    a.q.push(anim('g2', serverTs + 100));
    b.q.push(anim('g1', serverTs)); // B received its copy 50 ms later than A
    b.q.push(anim('g2', serverTs + 100));
    a.clock.advance(10_000);
    b.clock.advance(10_000);
    const serverTimes = (s: ReturnType<typeof setup>, offset: number) =>
      s.started.map((x) => [x.id, x.at + offset]);
    expect(serverTimes(a, 0)).toEqual(serverTimes(b, -5_000));
    expect(serverTimes(a, 0)).toEqual([
      ['g1', serverTs + 250],
      ['g2', serverTs + 250 + 1000 + 300],
    ]);
  });

  it('a copy that arrives a little late seeks into the animation to stay in step', () => {
    const { clock, q, started, ended } = setup();
    const ts = clock.now() - 600; // arrived 600 ms after the event: 350 ms after the aligned start
    q.push(anim('late', ts));
    expect(started).toEqual([{ id: 'late', at: clock.now(), seekMs: 350 }]);
    clock.advance(649);
    expect(ended).toEqual([]);
    clock.advance(1);
    expect(ended).toEqual(['late']); // ends with everyone else's copy
  });

  it('an event caught up after a reconnect plays from its beginning, not skipped', () => {
    const { clock, q, started } = setup();
    const old = clock.now() - 60_000;
    q.push(anim('missed1', old));
    q.push(anim('missed2', old + 10));
    clock.advance(5_000);
    expect(started).toEqual([
      { id: 'missed1', at: 1_000_000, seekMs: 0 },
      { id: 'missed2', at: 1_000_000 + 1000 + 300, seekMs: 0 },
    ]);
  });

  it('clear() forgets waiting animations and timers', () => {
    const { clock, q, started } = setup();
    q.push(anim('a', clock.now()));
    q.push(anim('b', clock.now()));
    q.clear();
    clock.advance(10_000);
    expect(started).toEqual([]);
  });
});
