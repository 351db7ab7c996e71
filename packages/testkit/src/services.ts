import { Socket } from 'node:net';
import { serviceUrls } from './isolation.js';

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

/**
 * Fails, naming each one, when PostgreSQL, NATS or Redis is not reachable. Tests never skip
 * themselves because a service is missing.
 */
export async function assertServicesUp(): Promise<void> {
  const checks = [
    { name: 'PostgreSQL', env: 'DATABASE_URL', ...hostPort(serviceUrls.database, 5432) },
    { name: 'NATS', env: 'NATS_URL', ...hostPort(serviceUrls.nats, 4222) },
    { name: 'Redis', env: 'REDIS_URL', ...hostPort(serviceUrls.redis, 6379) },
  ];
  const down: string[] = [];
  for (const c of checks) {
    if (!(await reachable(c.host, c.port))) down.push(`${c.name} at ${c.host}:${c.port} (set ${c.env})`);
  }
  if (down.length) {
    throw new Error(
      `Crowncast tests need real services and these are not reachable: ${down.join('; ')}. ` +
        'Start them (see README "Running the tests") or point the variables at running ones.',
    );
  }
}
