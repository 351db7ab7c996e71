import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../src/index.js';

describe('full-jitter backoff', () => {
  it('draws each wait uniformly from [0, min(max, base * 2^attempt)]', () => {
    const top = 1 - Number.EPSILON;
    const windows = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, DEFAULT_BACKOFF, () => top));
    expect(windows).toEqual([499, 999, 1999, 3999, 7999, 15999, 19999, 19999]);
    for (let n = 0; n < 8; n++) expect(backoffDelay(n, DEFAULT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5)).toBe(2000);
  });

  it('never exceeds the cap, even after very many attempts', () => {
    const opts = { baseMs: 100, maxMs: 1000 };
    for (const n of [10, 31, 100, 10_000]) expect(backoffDelay(n, opts, () => 0.999999)).toBeLessThan(1000);
  });

  it('spreads a fleet: 1,000 clients at attempt 3 fill the window instead of retrying together', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const delays = Array.from({ length: 1000 }, () => backoffDelay(3, DEFAULT_BACKOFF, random));
    const buckets = new Array(4).fill(0);
    for (const d of delays) buckets[Math.floor(d / 1000)]++;
    // Each quarter of the 4 s window holds roughly a quarter of the clients.
    for (const b of buckets) expect(b).toBeGreaterThan(180);
  });
});
