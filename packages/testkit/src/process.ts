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
 * Makes a service end when the test process that started it ends (see die-with-parent.mjs). Plain
 * JavaScript, so it also loads into a bundled service that runs without tsx.
 */
const DIE_WITH_PARENT = fileURLToPath(new URL('./die-with-parent.mjs', import.meta.url));

/** A port nobody listens on right now (for a process whose logs will not tell us its port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function announceWhenLive(proc: ChildProcess, port: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && proc.exitCode === null) {
    const live = await fetch(`http://127.0.0.1:${port}/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (live) {
      proc.emit('crowncast:listening', `http://127.0.0.1:${port}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts a service entry (e.g. services/ledger/src/server.ts) as a real process and waits until it
 * listens. A TypeScript entry runs through tsx; a built one (dist/server.js, see
 * deploy/scripts/bundle.ts) runs as the image runs it, on plain node. At the default log level
 * (info) it learns the port from the "listening at" log line; with a quieter `logLevel`
 * (benchmarks) it picks a free port and polls /health/live. `nodeArgs` replaces the node arguments
 * before the entry (a built entry started with its image CMD's flags, see deploy/scripts/dockerfile.ts).
 */
export async function spawnService(
  entry: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
  opts: { logLevel?: string; nodeArgs?: string[] } = {},
): Promise<RunningService> {
  const quiet = opts.logLevel !== undefined && !['info', 'debug', 'trace'].includes(opts.logLevel);
  const port = quiet ? await freePort() : 0;
  // A leaked service (its test timed out before cleaning up) would keep running, e.g. a ledger whose
  // relay polls PostgreSQL, and skew whatever runs next.
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : ['--enable-source-maps'];
  const nodeArgs = opts.nodeArgs ?? loader;
  const proc = spawn(process.execPath, [...nodeArgs, '--import', DIE_WITH_PARENT, entry], {
    cwd: REPO_ROOT,
    // At info the "listening at" line tells us the port; quieter processes get a port from us.
    env: {
      ...process.env,
      ...env,
      LOG_LEVEL: opts.logLevel ?? 'info',
      CROWNCAST_PARENT_PID: String(process.pid),
      ...(quiet ? { PORT: String(port), HOST: '127.0.0.1' } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (quiet) void announceWhenLive(proc, port, timeoutMs);
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${entry} did not start in ${timeoutMs} ms:\n${logs.join('\n')}`));
    }, timeoutMs);
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
