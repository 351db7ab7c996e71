import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './services.js';

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string; target?: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** docker-compose.yml as Compose reads it: YAML merge keys (<<) resolved. */
export async function loadCompose(): Promise<{ raw: unknown; file: ComposeFile }> {
  const text = await readFile(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
  const raw = parse(text, { merge: true }) as unknown;
  return { raw, file: raw as ComposeFile };
}

/** Compose interpolation with nothing set in the environment: `${X:-default}` becomes default. */
export function interpolateDefaults(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_m, _name: string, def?: string) => def ?? '');
}

/** `server host:port` lines of the compose gateway's nginx config, per upstream. */
export async function nginxConfig(): Promise<{
  upstreams: Map<string, { host: string; port: number }[]>;
  locations: Map<string, string>;
  text: string;
}> {
  const text = await readFile(join(REPO_ROOT, 'deploy/compose/nginx.conf'), 'utf8');
  const upstreams = new Map<string, { host: string; port: number }[]>();
  for (const m of text.matchAll(/upstream (\w+) \{([^}]*)\}/g)) {
    const servers = [...m[2]!.matchAll(/server ([\w-]+):(\d+)/g)].map((s) => ({
      host: s[1]!,
      port: Number(s[2]),
    }));
    upstreams.set(m[1]!, servers);
  }
  const locations = new Map<string, string>();
  for (const m of text.matchAll(/location (\S+) \{([^}]*)\}/g)) locations.set(m[1]!, m[2]!);
  return { upstreams, locations, text };
}
