import { describe, expect, it } from 'vitest';
import { runRestFuzz } from './rest-fuzz.js';

/**
 * The CI-short REST fuzz: 30 seeded cases of each of the 11 hostile input classes against a real
 * ledger. Every answer must be a 4xx whose code docs/ledger.md lists with that status, nothing may
 * answer 5xx or drop the connection, and no ledger entry may be written. The long run is
 * `pnpm test:fuzz` (tests/fuzz/run.ts); FUZZ_SEED reproduces a failing run.
 */
describe('REST fuzz (short)', () => {
  it('answers every hostile request with a documented 4xx and moves no crown', async () => {
    const rows = await runRestFuzz(30);
    expect(rows.length).toBe(11);
    for (const r of rows) {
      expect(r.cases, r.class).toBe(30);
      expect(r.undocumented, r.class).toEqual([]);
      expect(r.status_5xx, r.class).toBe(0);
      expect(r.crowns_moved, r.class).toBe(0);
    }
  }, 55_000);
});
