import { serviceUrls } from '@crowncast/testkit';
import { Redis } from 'ioredis';

/** One scrape of a service's /metrics: RSS, event-loop delay p99 and chosen gauges. */
export interface ServiceSample {
  rssMb: number;
  eldP99Ms: number;
  gauges: Record<string, number>;
}

export async function scrape(url: string, gauges: string[] = []): Promise<ServiceSample> {
  const text = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })
    .then((r) => r.text())
    .catch(() => '');
  const value = (re: RegExp) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : Number.NaN;
  };
  const out: ServiceSample = {
    rssMb: value(/^\w+_process_resident_memory_bytes (\S+)/m) / 2 ** 20,
    // prom-client resets its event-loop histogram at every scrape: this is the window's p99.
    eldP99Ms: value(/^\w+_nodejs_eventloop_lag_p99_seconds (\S+)/m) * 1000,
    gauges: {},
  };
  for (const g of gauges) out.gauges[g] = value(new RegExp(`^${g} (\\S+)`, 'm'));
  return out;
}

/** Keys under a Redis prefix by their kind (the part before the next ':'), via SCAN. */
export async function redisKeyKinds(prefix: string): Promise<Record<string, number>> {
  const r = new Redis(serviceUrls.redis, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const out: Record<string, number> = {};
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) {
        const kind = k.slice(prefix.length).split(':')[0] ?? '';
        out[kind] = (out[kind] ?? 0) + 1;
      }
    } while (cursor !== '0');
    return out;
  } finally {
    r.disconnect();
  }
}

/** Keys under a Redis prefix (SCAN, so the shared server is not blocked). */
export async function redisKeyCount(prefix: string): Promise<number> {
  const r = new Redis(serviceUrls.redis, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await r.connect();
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      n += keys.length;
    } while (cursor !== '0');
    return n;
  } finally {
    r.disconnect();
  }
}

/** Nearest-rank percentile (ms) of a list, NaN when empty. */
export function pct(list: number[], p: number): number {
  if (list.length === 0) return Number.NaN;
  const s = Float64Array.from(list).sort();
  return s[Math.max(0, Math.ceil(p * s.length) - 1)] as number;
}
