import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function openFilesLimit(): { soft: number; hard: number } {
  const m = /Max open files\s+(\S+)\s+(\S+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  const num = (s: string | undefined) => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
  return { soft: num(m?.[1]), hard: num(m?.[2]) };
}

/**
 * The server process holds one fd per socket. When the soft limit is too low but the hard limit
 * allows, the benchmark re-runs itself under `ulimit -n` (children inherit it); otherwise it stops
 * with a message instead of failing half-way with EMFILE.
 */
export function ensureFdLimit(need: number): void {
  const { soft, hard } = openFilesLimit();
  if (soft >= need) return;
  if (hard < need || process.env.BENCH_FD_REEXEC) {
    throw new Error(`need ${need} open files per process, the limit is ${soft} (hard ${hard}): raise it`);
  }
  const argv = [...process.execArgv, ...process.argv.slice(1)].map((a) => `'${a.replace(/'/g, "'\\''")}'`);
  const r = spawnSync('sh', ['-c', `ulimit -n ${need} && exec '${process.execPath}' ${argv.join(' ')}`], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_FD_REEXEC: '1' },
  });
  process.exit(r.status ?? 1);
}
