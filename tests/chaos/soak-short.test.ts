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
      presenceEnv: { TOMBSTONE_MS: '1000' },
    });
    expect(r.problems).toEqual([]);
    expect(r.verdict.committed).toBeGreaterThan(50);
    expect(r.windows.at(-1)?.reconnects).toBeGreaterThan(10);
    // Churn must not grow Redis: per-user keys stay bounded by the 50 users, and the only keys a
    // closed socket leaves are presence's tombstones, which expire (TOMBSTONE_MS): their number
    // plateaus instead of growing with every churned socket (a leak adds 20 over the 10 s).
    const tomb = r.windows.map((w) => w.redis_key_kinds.x ?? 0);
    expect((tomb.at(-1) ?? 0) - (tomb[0] ?? 0), JSON.stringify(tomb)).toBeLessThanOrEqual(6);
    for (const w of r.windows) {
      const { x: _tombstones, u = 0, rl = 0, ...rest } = w.redis_key_kinds;
      // presence: two keys per user; the ledger's limits: two windows per sender.
      expect(u, JSON.stringify(w.redis_key_kinds)).toBeLessThanOrEqual(2 * 50);
      expect(rl, JSON.stringify(w.redis_key_kinds)).toBeLessThanOrEqual(2 * 50);
      expect(
        Object.values(rest).reduce((a, n) => a + n, 0),
        JSON.stringify(rest),
      ).toBeLessThan(50);
    }
    expect(r.after).toEqual(r.idle);
    for (const w of r.windows) {
      expect(w.delivery_p99_ms).toBeLessThan(5000);
      // Every service was sampled (a broken probe would make "flat" meaningless).
      for (const mb of Object.values(w.rss_mb)) expect(mb).toBeGreaterThan(20);
      for (const ms of Object.values(w.eld_p99_ms)) expect(ms).toBeGreaterThan(0);
    }
  }, 58_000);
});
