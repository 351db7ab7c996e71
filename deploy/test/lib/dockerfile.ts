import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from './services.js';

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
