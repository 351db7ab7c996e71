import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployableServices } from '../scripts/bundle.js';
import { DOCKERFILE, dockerfileStages, lineage } from '../scripts/dockerfile.js';
import { hasRoute, loadServices, REPO_ROOT } from './lib/services.js';

// No Docker engine here: the Dockerfile is checked statically against the code. That its CMD
// really starts each service from production dependencies only is proven by image-layout.test.ts.
const stages = await dockerfileStages();
const services = await loadServices();
const text = await readFile(DOCKERFILE, 'utf8');
const jsonArgs = (args: string) => JSON.parse(args) as string[];

describe('deploy/docker/Dockerfile', async () => {
  const deployable = await deployableServices();

  it('has a final stage for every service with a server entry', () => {
    expect(deployable).toEqual(expect.arrayContaining(['ledger']));
    for (const s of deployable) expect(stages.has(s), `stage ${s}`).toBe(true);
  });

  it('fetches by lockfile, bundles, and keeps production dependencies only (pnpm deploy --prod)', () => {
    expect(text).toMatch(/pnpm fetch/);
    expect(text).toMatch(/pnpm install --offline --frozen-lockfile/);
    expect(text).toMatch(/deploy\/scripts\/bundle\.ts/);
    expect(text).toMatch(/deploy --prod/);
    expect(text).not.toMatch(/NODE_ENV/);
  });

  for (const svc of services) {
    describe(svc.name, () => {
      const ops = lineage(stages, svc.name);
      const last = (op: string) => ops.filter((l) => l.op === op).at(-1)?.args ?? '';

      it('runs as a non-root user', () => {
        const user = last('USER').split(':')[0];
        expect(user).toBeTruthy();
        expect(['root', '0']).not.toContain(user);
      });

      it('exposes and sets the port the service listens on by default', () => {
        expect(Number(last('EXPOSE'))).toBe(svc.defaultPort);
        expect(last('ENV')).toBe(`PORT=${svc.defaultPort}`);
      });

      it('execs node directly on the bundled entry, so SIGTERM reaches the service', () => {
        const cmd = jsonArgs(last('CMD'));
        expect(cmd[0]).toBe('node');
        expect(cmd.at(-1)).toBe('dist/server.js');
        expect(ops.some((l) => l.op === 'ENTRYPOINT')).toBe(false);
      });

      it('has a HEALTHCHECK on a route the service serves', async () => {
        const hc = last('HEALTHCHECK');
        const cmd = jsonArgs(hc.slice(hc.indexOf('CMD') + 3).trim());
        expect(cmd.slice(0, 2)).toEqual(['node', '/app/healthcheck.mjs']);
        expect(hasRoute(svc, cmd[2]!)).toBe(true);
        await expect(stat(join(REPO_ROOT, 'deploy/docker/healthcheck.mjs'))).resolves.toBeTruthy();
      });
    });
  }

  it('.dockerignore keeps node_modules and build output out of the context', async () => {
    const ignore = await readFile(join(REPO_ROOT, '.dockerignore'), 'utf8');
    expect(ignore).toMatch(/^\*\*\/node_modules$/m);
    expect(ignore).toMatch(/^\*\*\/dist$/m);
  });
});
