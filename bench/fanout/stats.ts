export interface Percentiles {
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Nearest-rank percentiles of latency samples (ms), NaN when there are none. */
export function percentiles(samples: number[]): Percentiles {
  if (samples.length === 0) return { p50_ms: Number.NaN, p95_ms: Number.NaN, p99_ms: Number.NaN };
  const s = Float64Array.from(samples).sort();
  const at = (p: number) => round(s[Math.max(0, Math.ceil(p * s.length) - 1)]!);
  return { p50_ms: at(0.5), p95_ms: at(0.95), p99_ms: at(0.99) };
}

export { round };
