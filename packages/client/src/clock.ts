/** Time and timers, injectable so queue and backoff tests run on a manual clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Estimates server time minus local time. `connected` gives a first guess (its one-way delay
 * unknown); each pong gives a sample whose error is at most half its round trip, and the sample
 * with the smallest round trip of the recent ones wins (NTP's rule: the fastest exchange is the
 * least skewed by queueing).
 */
export class ServerClock {
  private samples: { offset: number; rtt: number }[] = [];
  private guess = 0;

  constructor(private readonly keep = 8) {}

  /** From `connected.serverTime`, received at local time `receivedAt`. */
  connected(serverTimeIso: string, receivedAt: number): void {
    const t = Date.parse(serverTimeIso);
    if (Number.isFinite(t)) this.guess = t - receivedAt;
  }

  /** From a pong: the ping left at `sentAt`, the pong came back at `receivedAt` (local ms). */
  pong(serverTimeIso: string, sentAt: number, receivedAt: number): void {
    const t = Date.parse(serverTimeIso);
    if (!Number.isFinite(t)) return;
    const rtt = receivedAt - sentAt;
    this.samples.push({ offset: t - (sentAt + rtt / 2), rtt });
    if (this.samples.length > this.keep) this.samples.shift();
  }

  /** Server time minus local time, ms. */
  get offsetMs(): number {
    let best: { offset: number; rtt: number } | undefined;
    for (const s of this.samples) if (!best || s.rtt < best.rtt) best = s;
    return Math.round(best ? best.offset : this.guess);
  }
}
