import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from './bundle.js';

export interface Stage {
  name: string;
  from: string;
  /** Instructions of the stage, continuation lines joined. */
  lines: { op: string; args: string }[];
}

export const DOCKERFILE = join(REPO_ROOT, 'deploy/docker/Dockerfile');

/** The Dockerfile's stages by name (`FROM x AS name`), for static checks (no Docker here). */
export async function dockerfileStages(): Promise<Map<string, Stage>> {
  const text = (await readFile(DOCKERFILE, 'utf8')).replace(/\\\n/g, ' ');
  const stages = new Map<string, Stage>();
  let current: Stage | undefined;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const [op = '', ...rest] = trimmed.split(/\s+/);
    const args = rest.join(' ');
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args);
      current = { name: m?.[2] ?? `#${stages.size}`, from: m?.[1] ?? '', lines: [] };
      stages.set(current.name, current);
    } else current?.lines.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/** Instructions of a stage and of the stages it builds FROM, base first. */
export function lineage(stages: Map<string, Stage>, name: string): { op: string; args: string }[] {
  const stage = stages.get(name);
  if (!stage) return [];
  return [...lineage(stages, stage.from), ...stage.lines];
}

/**
 * The node arguments of a service image's CMD between `node` and the entry (`dist/server.js`), e.g.
 * the edge's V8 heap flags; whatever runs a service as its image does (the image-layout test, the
 * fan-out benchmark) takes them from here, so what is measured is what is deployed.
 */
export async function imageNodeArgs(service: string): Promise<string[]> {
  const ops = lineage(await dockerfileStages(), service);
  const cmd = ops.filter((l) => l.op === 'CMD').at(-1)?.args;
  if (!cmd) throw new Error(`the Dockerfile has no CMD for ${service}`);
  const args = JSON.parse(cmd) as string[];
  if (args[0] !== 'node' || args.at(-1) !== 'dist/server.js') {
    throw new Error(`the ${service} image CMD is not node ... dist/server.js: ${cmd}`);
  }
  return args.slice(1, -1);
}
