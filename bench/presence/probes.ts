import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { Redis } from 'ioredis';

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLK_TCK;
}
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Calls (and microseconds spent) per Redis command since the server started (INFO commandstats). */
export async function commandStats(
  redis: Redis,
): Promise<{ calls: Map<string, number>; usec: Map<string, number> }> {
  const text = await redis.info('commandstats');
  const calls = new Map<string, number>();
  const usec = new Map<string, number>();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    calls.set(m[1]!, Number(m[2]));
    usec.set(m[1]!, Number(m[3]));
  }
  return { calls, usec };
}

export function statsDelta(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const d = new Map<string, number>();
  for (const [k, v] of b) {
    const x = v - (a.get(k) ?? 0);
    if (x > 0) d.set(k, x);
  }
  return d;
}

/** Sums a Prometheus metric (all label sets matching `labels`) from a /metrics text. */
export async function scrape(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})?\s+([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/**
 * A Redis of the benchmark's own (real redis-server, no persistence), so INFO commandstats counts
 * presence's commands only, not those of tests running on the shared server. Null when no
 * redis-server binary is installed; the caller then uses the shared one.
 */
export async function privateRedis(): Promise<{ url: string; stop(): void } | null> {
  const port = await freePort();
  let proc: ChildProcess;
  try {
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
  } catch {
    return null;
  }
  const failed = new Promise<null>((resolve) => proc.once('error', () => resolve(null)));
  const url = `redis://127.0.0.1:${port}`;
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => {});
      try {
        await r.connect();
        await r.ping();
        r.disconnect();
        return { url, stop: () => proc.kill('SIGKILL') };
      } catch {
        r.disconnect();
        await new Promise((res) => setTimeout(res, 50));
      }
    }
    proc.kill('SIGKILL');
    return null;
  })();
  return Promise.race([ready, failed]);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
