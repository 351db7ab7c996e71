import type { RoomRef, Target } from './targets/target.js';

const TICK_MS = 5;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Publishes `rate` events/s for `durationMs` (or until `stop` resolves first), evenly paced in 5 ms
 * ticks. Returns how many events were published. The loop is bounded by the duration.
 */
export async function publishAtRate(
  target: Target,
  rate: number,
  durationMs: number,
  phase: number,
  pick: (k: number) => RoomRef,
  stop?: { stopped: boolean },
): Promise<number> {
  const start = performance.now();
  let sent = 0;
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= durationMs || stop?.stopped) break;
    const due = Math.min(
      Math.floor((elapsed * rate) / 1000) + 1,
      Math.max(1, Math.round((durationMs * rate) / 1000)),
    );
    while (sent < due) target.publish(pick(sent++), phase);
    await sleep(TICK_MS);
  }
  await target.flush();
  return sent;
}
