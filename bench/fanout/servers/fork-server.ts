import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ForkedServer {
  proc: ChildProcess;
  port: number;
  /** The size of its V8 young generation, KB (servers/heap-report.ts). */
  youngKb(): Promise<number>;
  stop(): Promise<void>;
}

/** Forks one of the reference servers in its own process (so its RSS is its own) and waits for its port. */
export async function forkServer(file: string, env: Record<string, string> = {}): Promise<ForkedServer> {
  const proc = fork(fileURLToPath(new URL(file, import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not listen in 20 s`)), 20_000);
    proc.on('message', (m: { op?: string; port?: number }) => {
      if (m.op === 'listening' && m.port) {
        clearTimeout(timer);
        resolve(m.port);
      }
    });
    void exited.then(() => reject(new Error(`${file} exited before listening`)));
  });
  return {
    proc,
    port,
    youngKb: () =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${file} did not report its heap in 10 s`)), 10_000);
        const onMessage = (m: { op?: string; kb?: number }) => {
          if (m.op !== 'young' || m.kb === undefined) return;
          clearTimeout(timer);
          proc.off('message', onMessage);
          resolve(m.kb);
        };
        proc.on('message', onMessage);
        proc.send({ op: 'young' });
      }),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Resident memory of a process in KB, from /proc/<pid>/status. */
export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** CPU time (user + system) a process has used so far, ms, from /proc/<pid>/stat (100 ticks/s). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
