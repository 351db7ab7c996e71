import { Socket } from 'node:net';
import { serviceUrls } from './isolation.js';

export type ServiceName = 'PostgreSQL' | 'NATS' | 'Redis';

function hostPort(url: string, defPort: number): { host: string; port: number } {
  const u = new URL(url.split(',')[0] as string);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || defPort) };
}

function reachable(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, host, () => done(true));
  });
}

/** The services that do not answer at their configured (or default local) address. */
export async function unreachableServices(): Promise<{ name: ServiceName; env: string; describe: string }[]> {
  const checks = [
    { name: 'PostgreSQL' as const, env: 'DATABASE_URL', ...hostPort(serviceUrls.database, 5432) },
    { name: 'NATS' as const, env: 'NATS_URL', ...hostPort(serviceUrls.nats, 4222) },
    { name: 'Redis' as const, env: 'REDIS_URL', ...hostPort(serviceUrls.redis, 6379) },
  ];
  const down = [];
  for (const c of checks) {
    if (!(await reachable(c.host, c.port)))
      down.push({ name: c.name, env: c.env, describe: `${c.name} at ${c.host}:${c.port} (set ${c.env})` });
  }
  return down;
}

/** Fails, naming each one, when PostgreSQL, NATS or Redis is not reachable. */
export async function assertServicesUp(): Promise<void> {
  const down = await unreachableServices();
  if (down.length) {
    throw new Error(
      `Crowncast needs these services and they are not reachable: ${down.map((d) => d.describe).join('; ')}`,
    );
  }
}
