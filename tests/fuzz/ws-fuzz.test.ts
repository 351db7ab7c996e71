import { describe, expect, it } from 'vitest';
import { runWsFuzz } from './ws-fuzz.js';

/**
 * The CI-short WebSocket fuzz against a real edge and ledger: random, binary, malformed and
 * oversized frames, floods, joins to foreign rooms, 1,000 connections from one user, slowloris
 * upgrades, a client that never reads and hostile handshakes. Each abuser must get the answer
 * docs/edge.md documents, while a well-behaved member of a room receives every event once, in
 * order, without being disconnected, and the edge stays ready with bounded memory.
 */
describe('WebSocket fuzz (short)', () => {
  it('gives every abuser its documented answer and keeps the edge healthy for everyone else', async () => {
    const { rows, figures } = await runWsFuzz(1);
    expect(rows.length).toBe(10);
    for (const r of rows) {
      expect(r.cases, r.class).toBeGreaterThan(0);
      expect(r.undocumented, r.class).toEqual([]);
      expect(r.status_5xx, r.class).toBe(0);
      expect(r.crowns_moved, r.class).toBe(0);
    }
    expect(figures.edgeExited).toBe(false);
    expect(figures.readinessFailures).toBe(0);
    expect(figures.bystander).toMatchObject({ missing: 0, duplicates: 0, gaps: 0, closes: 0 });
    expect(figures.bystander.published).toBeGreaterThan(100);
    // Every abuser gone: connections and rooms (= live subscriptions) back to the bystander's.
    expect(figures.connectionsAfter).toBe(figures.connectionsBefore);
    expect(figures.roomsAfter).toBe(figures.roomsBefore);
    // Bounded memory: 1,000 sockets and 1 MB frames come and go without the edge keeping them.
    expect(figures.rssPeakMb).toBeLessThan(figures.rssBeforeMb + 256);
    expect(figures.rssAfterMb).toBeLessThan(figures.rssBeforeMb + 128);
  }, 58_000);
});
