import { describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soak/soak.js';

/**
 * The CI-short soak (`pnpm soak` is the 10-minute one): steady gifts over the whole stack while
 * member sockets churn (closed on purpose, each comes back and resumes). Nothing may be lost or
 * shown twice, churn may not grow Redis keys, and once every member left the edges hold no
 * connection and no room subscription.
 */
describe('soak (short)', () => {
  it('keeps every promise under churn and leaks no subscription or Redis key', async () => {
    const r = await runSoak({
      seconds: 15,
      windows: 3,
      clubs: 10,
      perClub: 5,
      ratePerSec: 10,
      churnPerSec: 2,
    });
    expect(r.problems).toEqual([]);
    expect(r.verdict.committed).toBeGreaterThan(50);
    expect(r.windows.at(-1)?.reconnects).toBeGreaterThan(10);
    // Same users all along: churn must not add keys (presence cleans up after each socket).
    expect(r.windows.at(-1)?.redis_keys).toBe(r.windows[0]?.redis_keys);
    expect(r.after).toEqual(r.idle);
    for (const w of r.windows) expect(w.delivery_p99_ms).toBeLessThan(5000);
  }, 58_000);
});
