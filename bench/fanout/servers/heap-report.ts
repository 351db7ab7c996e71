import { getHeapSpaceStatistics } from 'node:v8';

/**
 * Answers the benchmark's `{ op: 'young' }` with the size of V8's young generation (KB), so RSS
 * growth can be read without it: the young generation is a fixed cost that V8 sizes by allocation
 * rate, and whether an idle process had shrunk it moves RSS by up to ~32 MB. The edge reports the
 * same figure on /metrics (prom-client's default metrics).
 */
export function answerYoungGeneration(): void {
  process.on('message', (m: { op?: string }) => {
    if (m.op !== 'young') return;
    const young = getHeapSpaceStatistics()
      .filter((s) => s.space_name === 'new_space' || s.space_name === 'new_large_object_space')
      .reduce((sum, s) => sum + s.space_size, 0);
    process.send?.({ op: 'young', kb: Math.round(young / 1024) });
  });
}
