import { type Clock, systemClock } from './clock.js';

/** One animation to play: an event id, the event's server timestamp and how long it runs. */
export interface Animation<T> {
  id: string;
  /** The event's `ts` as epoch ms (server clock). */
  ts: number;
  durationMs: number;
  item: T;
}

/** What the queue tells the app to play. Times are on the local clock. */
export interface Playback<T> {
  animation: Animation<T>;
  /** When the animation (aligned) began; may be slightly before the call if it was late. */
  startAt: number;
  endAt: number;
  /** Start this far into the animation, so a client whose copy arrived late stays in step. */
  seekMs: number;
}

export interface AnimationQueueOptions<T> {
  /** Pause between the end of one animation and the start of the next, ms. Default 300. */
  gapMs?: number;
  /** Animations waiting behind the one playing; when full the oldest is dropped. Default 5. */
  maxWaiting?: number;
  /**
   * Delay after the event's server timestamp before it may start, ms. Every client that received
   * the event within it starts at the same server moment. Default 250.
   */
  leadMs?: number;
  /**
   * An animation whose aligned start is further in the past than this (an event caught up after a
   * reconnect) plays from its beginning at the next free slot instead of being skipped. Default 1000.
   */
  lateToleranceMs?: number;
  /** Server time minus local time, ms (the client's `serverOffsetMs`). Default: 0. */
  serverOffset?: () => number;
  /** Time and timers. Default: the real clock. */
  clock?: Clock;
  /** Called when an animation starts. */
  onStart: (p: Playback<T>) => void;
  /** Called when it ends (before the gap). */
  onEnd?: (p: Playback<T>) => void;
  /** Called for an animation dropped because the queue was full. */
  onDrop?: (a: Animation<T>) => void;
}

/**
 * The product's gift animation queue (FR-6): one at a time, `gapMs` apart, at most `maxWaiting`
 * waiting, oldest dropped. Schedules in server time (event ts + lead, or the end of the previous
 * one + gap), so clients in a room that saw the same events start each gift at the same moment.
 */
export class AnimationQueue<T> {
  private readonly o: Required<Omit<AnimationQueueOptions<T>, 'onEnd' | 'onDrop'>> &
    Pick<AnimationQueueOptions<T>, 'onEnd' | 'onDrop'>;
  private readonly waiting: Animation<T>[] = [];
  private current: Playback<T> | null = null;
  /** Server time at which the next animation may start. */
  private freeAt = Number.NEGATIVE_INFINITY;
  /** Waits for the next animation's start; the one playing has its own end timer. */
  private timer: unknown = null;
  private endTimer: unknown = null;

  constructor(opts: AnimationQueueOptions<T>) {
    this.o = {
      gapMs: 300,
      maxWaiting: 5,
      leadMs: 250,
      lateToleranceMs: 1000,
      serverOffset: () => 0,
      clock: systemClock,
      ...opts,
    };
  }

  /** Animations waiting (not counting the one playing). */
  get pending(): readonly Animation<T>[] {
    return this.waiting;
  }

  get playing(): Playback<T> | null {
    return this.current;
  }

  push(a: Animation<T>): void {
    if (this.waiting.length >= this.o.maxWaiting) {
      const dropped = this.waiting.shift() as Animation<T>;
      this.o.onDrop?.(dropped);
    }
    this.waiting.push(a);
    this.pump();
  }

  /** Stops timers and forgets everything (e.g. when leaving the room). */
  clear(): void {
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    if (this.endTimer !== null) this.o.clock.clearTimeout(this.endTimer);
    this.timer = this.endTimer = null;
    this.waiting.length = 0;
    this.current = null;
  }

  private serverNow(): number {
    return this.o.clock.now() + this.o.serverOffset();
  }

  private pump(): void {
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.current) return;
    const next = this.waiting[0];
    if (!next) return;
    const now = this.serverNow();
    let start = Math.max(next.ts + this.o.leadMs, this.freeAt);
    if (now - start > this.o.lateToleranceMs) start = Math.max(now, this.freeAt);
    if (start > now) {
      this.timer = this.o.clock.setTimeout(() => {
        this.timer = null;
        this.pump();
      }, start - now);
      return;
    }
    this.waiting.shift();
    this.play(next, start, now);
  }

  private play(a: Animation<T>, startServer: number, nowServer: number): void {
    const offset = this.o.serverOffset();
    const p: Playback<T> = {
      animation: a,
      startAt: startServer - offset,
      endAt: startServer + a.durationMs - offset,
      seekMs: Math.min(a.durationMs, nowServer - startServer),
    };
    this.current = p;
    this.freeAt = startServer + a.durationMs + this.o.gapMs;
    this.o.onStart(p);
    this.endTimer = this.o.clock.setTimeout(
      () => {
        this.endTimer = null;
        this.current = null;
        this.o.onEnd?.(p);
        this.pump();
      },
      Math.max(0, startServer + a.durationMs - nowServer),
    );
  }
}
