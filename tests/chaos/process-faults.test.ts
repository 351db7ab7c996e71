import { describe, expect, it } from 'vitest';
import { FAULTS, runChaos } from '../lib/faults.js';

/**
 * The CI-short chaos run: the faults that only touch this suite's own processes (an edge by SIGTERM
 * and SIGKILL, the ledger by SIGKILL mid-commit, presence by SIGKILL), under a steady gift load
 * with members connected throughout. The long run with NATS, Redis and PostgreSQL restarts is
 * `pnpm test:chaos` (tests/chaos/run.ts).
 */
describe('process faults under load', () => {
  it('loses nothing committed, shows nothing twice, keeps the crowns, and recovers by itself', async () => {
    const { rows } = await runChaos({
      clubs: 6,
      perClub: 5,
      edges: 2,
      ratePerSec: 25,
      beforeMs: 1000,
      afterMs: 1000,
      faults: [
        FAULTS['edge SIGTERM'],
        FAULTS['edge SIGKILL'],
        FAULTS['ledger SIGKILL'],
        FAULTS['presence SIGKILL'],
      ].map((f) => f as NonNullable<typeof f>),
    });
    for (const r of rows) {
      expect(r.violations, r.fault).toEqual([]);
      expect(r.committed, r.fault).toBeGreaterThan(0);
      expect(r.events_delivered, r.fault).toBe(r.events_expected);
      expect(r.events_duplicated, r.fault).toBe(0);
    }
  }, 110_000);
});
