import { describe, expect, it } from 'vitest';
import { runNatsFuzz } from './nats-fuzz.js';

/**
 * The CI-short NATS envelope fuzz: 8 kinds of malformed envelopes on a room's subjects, between
 * valid events, against two real edges. Each is dropped and counted once per edge, none reaches a
 * socket, and both members get every valid event once, in order, without a gap.
 */
describe('NATS envelope fuzz (short)', () => {
  it('drops and counts malformed envelopes and still delivers the valid ones', async () => {
    const { rows, figures } = await runNatsFuzz(15);
    expect(rows.length).toBe(8);
    for (const r of rows) {
      expect(r.undocumented, r.class).toEqual([]);
      expect(r.outcomes['dropped and counted'], r.class).toBe(30);
      expect(r.outcomes['reached a socket'], r.class).toBe(0);
      expect(r.status_5xx, r.class).toBe(0);
    }
    expect(figures.gaps).toEqual([0, 0]);
    expect(figures.duplicates).toEqual([0, 0]);
    expect(figures.closes).toEqual([{}, {}]);
  }, 50_000);
});
