import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { Socket } from 'node:net';
import { sleep, waitFor } from './stack.js';

/**
 * Stops and starts the machine's shared NATS, Redis and PostgreSQL with the same commands that
 * started them (/work/.library/env/machines/node-svc.md). Every other suite on this machine uses
 * them too, so these run only from the long chaos command, and `restart` always starts the
 * service again, even when stopping it failed half-way.
 */
export type Infra = 'nats' | 'redis' | 'postgres';

const PORT: Record<Infra, number> = { nats: 4222, redis: 6379, postgres: 5432 };

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: 'ignore', timeout: 60_000 });
}

function pgVersion(): string {
  return readdirSync('/etc/postgresql')[0] as string;
}

const CONTROL: Record<Infra, { stop: () => void; start: () => void }> = {
  nats: {
    stop: () =>
      sh('start-stop-daemon', [
        '--stop',
        '--oknodo',
        '--retry',
        'TERM/10/KILL/5',
        '--exec',
        '/usr/sbin/nats-server',
      ]),
    start: () =>
      sh('start-stop-daemon', [
        '--start',
        '--oknodo',
        '--background',
        '--exec',
        '/usr/sbin/nats-server',
        '--',
        '-a',
        '127.0.0.1',
        '-p',
        '4222',
        '-js',
        '-sd',
        '/var/lib/nats-server',
        '-l',
        '/var/log/nats-server.log',
      ]),
  },
  redis: {
    stop: () => sh('redis-cli', ['-p', '6379', 'shutdown', 'nosave']),
    start: () =>
      sh('redis-server', [
        '--daemonize',
        'yes',
        '--bind',
        '127.0.0.1',
        '-::1',
        '--port',
        '6379',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        '/var/lib/redis',
        '--logfile',
        '/var/log/redis/ci.log',
      ]),
  },
  postgres: {
    stop: () => sh('pg_ctlcluster', ['--skip-systemctl-redirect', pgVersion(), 'main', 'stop', '-m', 'fast']),
    start: () => sh('pg_ctlcluster', ['--skip-systemctl-redirect', pgVersion(), 'main', 'start']),
  },
};

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1', () => done(true));
  });
}

/** Stops `what`, keeps it down for `downMs`, starts it again and waits until it accepts connections. */
export async function restartInfra(what: Infra, downMs: number): Promise<void> {
  try {
    CONTROL[what].stop();
    await waitFor(async () => !(await portOpen(PORT[what])), 15_000);
    await sleep(downMs);
  } finally {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        CONTROL[what].start();
      } catch {
        // already starting, or a stale pid file; the port check below decides
      }
      if (await waitFor(() => portOpen(PORT[what]), 15_000, 200)) break;
    }
  }
  if (!(await portOpen(PORT[what]))) throw new Error(`${what} did not come back on port ${PORT[what]}`);
}
