import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { cleanup, isolation, serviceEnv } from '@crowncast/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployableServices, imageLayout } from '../scripts/bundle.js';
import { imageNodeArgs } from '../scripts/dockerfile.js';
import { REPO_ROOT } from './lib/services.js';

// What the Dockerfile does, without Docker: `pnpm deploy --prod` (hoisted) plus the bundle, in a
// directory of its own, then the image's CMD (`node dist/server.js`) and its HEALTHCHECK script
// against the real PostgreSQL, NATS and Redis. Proves the production layout runs with no dev
// dependency, no tsx and no workspace sources, and drains and exits 0 on SIGTERM.
const run = promisify(execFile);
const iso = isolation();
const HEALTHCHECK = join(REPO_ROOT, 'deploy/docker/healthcheck.mjs');
// The ledger first: it migrates the schema and creates the ROOMS stream the others use.
const services = (await deployableServices()).sort((a, b) => Number(b === 'ledger') - Number(a === 'ledger'));
let root = '';
const appDir = (s: string) => join(root, s);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'crowncast-image-'));
  await Promise.all(services.map((s) => imageLayout(s, appDir(s))));
}, 60_000);

afterAll(async () => {
  await cleanup(iso);
  if (root) await rm(root, { recursive: true, force: true });
});

async function start(s: string, env: Record<string, string>) {
  const proc = spawn(process.execPath, [...(await imageNodeArgs(s)), 'dist/server.js'], {
    cwd: appDir(s),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const port = new Promise<number>((resolve, reject) => {
    const onLine = (line: string) => {
      logs.push(line);
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/i.exec(line);
      if (m) resolve(Number(m[1]));
    };
    createInterface({ input: proc.stdout }).on('line', onLine);
    createInterface({ input: proc.stderr }).on('line', onLine);
    void exited.then((code) => reject(new Error(`${s} exited ${code}:\n${logs.join('\n')}`)));
  });
  return { proc, port, exited, logs };
}

/** The image's HEALTHCHECK command; retried while dependencies come up (start-period). */
async function healthcheck(port: number, path: string): Promise<number> {
  let code = 1;
  for (let i = 0; i < 20 && code !== 0; i++) {
    code = await run(process.execPath, [HEALTHCHECK, path], { env: { PORT: String(port) } }).then(
      () => 0,
      (err: { code?: number }) => err.code ?? 1,
    );
    if (code !== 0) await new Promise((r) => setTimeout(r, 250));
  }
  return code;
}

describe('production image layout', () => {
  it('covers every deployable service', () => {
    expect(services[0]).toBe('ledger');
    expect(services.length).toBeGreaterThanOrEqual(1);
  });

  for (const s of services) {
    describe(s, () => {
      it('holds production dependencies only', async () => {
        const modules = await readdir(join(appDir(s), 'node_modules'));
        for (const dev of ['tsx', 'vitest', 'typescript', '@biomejs', 'esbuild'])
          expect(modules).not.toContain(dev);
        expect(await readdir(join(appDir(s), 'node_modules/@crowncast'))).not.toContain('testkit');
      });

      if (s === 'ledger') {
        it('runs the migrations Job command: node dist/cli.js migrate', async () => {
          const { stdout } = await run(process.execPath, ['dist/cli.js', 'migrate'], {
            cwd: appDir(s),
            env: { PATH: process.env.PATH ?? '', ...serviceEnv(iso) },
          });
          expect(stdout).toMatch(/applied \d{3}_/);
        });
      }

      it('starts with the image CMD, passes its HEALTHCHECK on live and ready, and exits 0 on SIGTERM', async () => {
        const svc = await start(s, serviceEnv(iso, { LOG_LEVEL: 'info', MIGRATE_ON_START: 'false' }));
        try {
          const port = await svc.port;
          expect(await healthcheck(port, '/health/live')).toBe(0);
          expect(await healthcheck(port, '/health/ready')).toBe(0);
          svc.proc.kill('SIGTERM');
          expect(await svc.exited).toBe(0);
        } finally {
          if (svc.proc.exitCode === null) svc.proc.kill('SIGKILL');
        }
      });
    });
  }
});
