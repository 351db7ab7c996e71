import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface RunningService {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Log lines seen so far (JSON lines as the service wrote them). */
  logs: string[];
  /** Sends a signal and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * Starts a service entry (e.g. services/ledger/src/server.ts) as a real process and waits until it
 * logs the address it listens on.
 */
export async function spawnService(
  entry: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<RunningService> {
  const proc = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    // info at least: the "listening at" line is how we learn the port.
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${entry} did not start in ${timeoutMs} ms:\n${logs.join('\n')}`)),
      timeoutMs,
    );
    const onLine = (line: string) => {
      logs.push(line);
      const m = /listening at (http:\/\/[^\s"]+)/i.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    proc.once('crowncast:listening', (u: string) => {
      clearTimeout(timer);
      resolve(u);
    });
    createInterface({ input: proc.stdout! }).on('line', onLine);
    createInterface({ input: proc.stderr! }).on('line', onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code} before listening:\n${logs.join('\n')}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    proc,
    logs,
    exited,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
