/**
 * Builds the production entry points of each service: services/<name>/dist/server.js (and cli.js
 * where the service has src/db/cli.ts). Our TypeScript (the service and the @crowncast/* workspace
 * packages) is bundled; every npm package stays external and is resolved at run time from the
 * node_modules that `pnpm deploy --prod` writes, so the image needs neither tsx nor dev dependencies.
 *
 *   tsx deploy/scripts/bundle.ts [service...] [--outdir-root DIR]
 */
import { execFile } from 'node:child_process';
import { cp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type Plugin } from 'esbuild';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Entry files, relative to services/<name>/src, that become dist/<basename>.js when present. */
const ENTRIES = ['server.ts', 'db/cli.ts'];
/** Folders read at run time next to the code (migrate.ts reads ./migrations/ beside itself). */
const ASSET_DIRS = ['db/migrations'];

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** Services that have a server entry: the ones an image is built for. */
export async function deployableServices(): Promise<string[]> {
  const names = await readdir(join(REPO_ROOT, 'services'));
  const found: string[] = [];
  for (const n of names.sort()) {
    if (await exists(join(REPO_ROOT, 'services', n, 'src/server.ts'))) found.push(n);
  }
  return found;
}

/** Keeps npm packages external; only relative imports and @crowncast/* (TypeScript sources) are bundled. */
const externalNpm: Plugin = {
  name: 'external-npm',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@crowncast/') ? undefined : { path: args.path, external: true },
    );
  },
};

export async function bundleService(service: string, outdir?: string): Promise<string> {
  const src = join(REPO_ROOT, 'services', service, 'src');
  const out = outdir ?? join(REPO_ROOT, 'services', service, 'dist');
  const entryPoints: string[] = [];
  for (const e of ENTRIES) if (await exists(join(src, e))) entryPoints.push(join(src, e));
  await rm(out, { recursive: true, force: true });
  await build({
    entryPoints,
    outdir: out,
    entryNames: '[name]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    plugins: [externalNpm],
    logLevel: 'warning',
  });
  for (const dir of ASSET_DIRS) {
    const from = join(src, dir);
    if (await exists(from)) await cp(from, join(out, dir.split('/').at(-1) as string), { recursive: true });
  }
  return out;
}

/**
 * What the Dockerfile puts in /app, without Docker: the service's production node_modules as
 * `pnpm deploy --prod` writes them (hoisted, workspace packages injected), no sources, and the bundle
 * in dist/. Returns the path of dist/server.js; `node <it>` runs the service as its image does.
 */
export async function imageLayout(service: string, dir: string): Promise<string> {
  await promisify(execFile)(
    'pnpm',
    [
      '--filter',
      `@crowncast/${service}`,
      'deploy',
      '--prod',
      '--offline',
      '--config.node-linker=hoisted',
      '--config.inject-workspace-packages=true',
      dir,
    ],
    { cwd: REPO_ROOT },
  );
  await rm(join(dir, 'src'), { recursive: true, force: true });
  await rm(join(dir, 'test'), { recursive: true, force: true });
  return join(await bundleService(service, join(dir, 'dist')), 'server.js');
}

async function main() {
  const args = process.argv.slice(2);
  const services = args.length ? args : await deployableServices();
  for (const s of services) console.log(`bundled ${s} -> ${await bundleService(s)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
