import { Pool } from 'undici';

/** A small HTTP load generator on undici: closed loop (fixed concurrency) or open loop (fixed rate). */
export interface Sample {
  ok: number;
  failed: number;
  statuses: Map<number, number>;
  latenciesMs: number[];
  seconds: number;
}

export type Request = () => { path: string; token: string; body: unknown };

function sample(): Sample {
  return { ok: 0, failed: 0, statuses: new Map(), latenciesMs: [], seconds: 0 };
}

async function fire(pool: Pool, req: ReturnType<Request>, s: Sample) {
  const t0 = performance.now();
  try {
    const res = await pool.request({
      method: 'POST',
      path: req.path,
      headers: { authorization: `Bearer ${req.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(req.body),
    });
    await res.body.dump();
    s.statuses.set(res.statusCode, (s.statuses.get(res.statusCode) ?? 0) + 1);
    if (res.statusCode === 200) {
      s.ok++;
      s.latenciesMs.push(performance.now() - t0);
    } else s.failed++;
  } catch {
    s.failed++;
  }
}

export async function closedLoop(
  url: string,
  concurrency: number,
  seconds: number,
  next: Request,
): Promise<Sample> {
  const pool = new Pool(url, { connections: concurrency });
  const s = sample();
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await fire(pool, next(), s);
    }),
  );
  s.seconds = (performance.now() - start) / 1000;
  await pool.close();
  return s;
}

export async function openLoop(
  url: string,
  ratePerSec: number,
  seconds: number,
  next: Request,
): Promise<Sample> {
  const pool = new Pool(url, { connections: 64 });
  const s = sample();
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * ratePerSec);
    for (; sent < due; sent++) inFlight.push(fire(pool, next(), s));
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(inFlight);
  s.seconds = (performance.now() - start) / 1000;
  await pool.close();
  return s;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function summarize(s: Sample) {
  const l = [...s.latenciesMs].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    gifts_per_s: r(s.ok / s.seconds),
    p50_ms: r(percentile(l, 50)),
    p95_ms: r(percentile(l, 95)),
    p99_ms: r(percentile(l, 99)),
    refused: s.failed,
    statuses: Object.fromEntries(s.statuses),
  };
}
