import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { z } from 'zod';

/** The facts deploy manifests are checked against, read from the services' own code. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The services this repo is meant to ship; each must be covered once its code exists. */
export const EXPECTED_SERVICES = ['ledger', 'edge', 'presence'] as const;

export interface ServiceFacts {
  name: string;
  /** The zod env schema exported as `<Name>Env` from services/<name>/src/config.ts. */
  schema: z.ZodObject;
  defaultPort: number;
  /** Variables the schema refuses to go without (no default, not optional). */
  required: string[];
  /** Every variable the schema reads. */
  known: Set<string>;
  /** All TypeScript source of the service, concatenated, to look routes up in. */
  source: string;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await tsFiles(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** A value the schema accepts for `key` when the environment leaves it unset, or undefined. */
export function defaultOf(schema: z.ZodObject, key: string): unknown {
  const field = schema.shape[key] as z.ZodType | undefined;
  const r = field?.safeParse(undefined);
  return r?.success ? r.data : undefined;
}

/** Services whose config.ts exists now; edge and presence join as they are written. */
export async function loadServices(): Promise<ServiceFacts[]> {
  const facts: ServiceFacts[] = [];
  for (const name of (await readdir(join(REPO_ROOT, 'services'))).sort()) {
    const configPath = join(REPO_ROOT, 'services', name, 'src/config.ts');
    if (!(await exists(configPath))) continue;
    const mod = (await import(pathToFileURL(configPath).href)) as Record<string, unknown>;
    const exportName = `${name[0]!.toUpperCase()}${name.slice(1)}Env`;
    const schema = mod[exportName] as z.ZodObject | undefined;
    if (!schema?.shape) throw new Error(`services/${name}/src/config.ts does not export ${exportName}`);
    const keys = Object.keys(schema.shape);
    const required = keys.filter((k) => !(schema.shape[k] as z.ZodType).safeParse(undefined).success);
    const files = await tsFiles(join(REPO_ROOT, 'services', name, 'src'));
    let source = (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n');
    // Routes a service gets from the shared service package (e.g. /metrics) are its routes too.
    if (source.includes("from '@crowncast/service'")) {
      const shared = await tsFiles(join(REPO_ROOT, 'packages/service/src'));
      source += `\n${(await Promise.all(shared.map((f) => readFile(f, 'utf8')))).join('\n')}`;
    }
    facts.push({
      name,
      schema,
      defaultPort: defaultOf(schema, 'PORT') as number,
      required,
      known: new Set(keys),
      source,
    });
  }
  return facts;
}

/** True when the service's code declares an HTTP route with this exact path. */
export function hasRoute(svc: ServiceFacts, path: string): boolean {
  const quoted = [`'${path}'`, `"${path}"`, `\`${path}\``];
  return quoted.some((q) => svc.source.includes(q));
}

/**
 * Prometheus metric names a service registers: `name: 'crowncast_…'`, or a template on a string
 * constant (`const P = 'crowncast_presence_'` … `name: \`${P}online_users\``).
 */
export function metricNames(svc: ServiceFacts): Set<string> {
  const consts = new Map(
    [...svc.source.matchAll(/const (\w+) = ['"`](crowncast_[a-z0-9_]*)['"`]/g)].map((m) => [m[1]!, m[2]!]),
  );
  const source = svc.source.replace(/\$\{(\w+)\}/g, (whole, id: string) => consts.get(id) ?? whole);
  const names = [...source.matchAll(/name:\s*['"`](crowncast_[a-z0-9_]+)['"`]/g)].map((m) => m[1]!);
  // exposeMetrics(app, registry, prefix) registers `<prefix>http_request_seconds`.
  for (const m of svc.source.matchAll(
    /exposeMetrics\([^,]+,[^,]+,\s*(?:['"`](crowncast_[a-z0-9_]*)['"`]|(\w+))\s*\)/g,
  )) {
    const prefix = m[1] ?? consts.get(m[2] ?? '');
    if (prefix) names.push(`${prefix}http_request_seconds`);
  }
  return new Set(names);
}

/** The JWT variables: the auth package accepts exactly one of a shared secret and a JWKS URL. */
export const JWT_KEY_VARS = ['JWT_SECRET', 'JWT_JWKS_URL'] as const;

export const repoPath = (p: string) => relative(REPO_ROOT, p);
