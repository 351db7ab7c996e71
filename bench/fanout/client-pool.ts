import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ConnectResult, ConnectSpec, FromClient, PhaseStats, ToClient } from './ipc.js';

const WORKER = fileURLToPath(new URL('./client-worker.ts', import.meta.url));

/** The forked client processes, driven over IPC. Every wait is bounded. */
export class ClientPool {
  private constructor(private readonly procs: ChildProcess[]) {}

  static async start(n: number): Promise<ClientPool> {
    const procs = Array.from({ length: n }, () =>
      fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    const pool = new ClientPool(procs);
    await Promise.all(procs.map((p) => pool.next(p, 'ready', 30_000)));
    return pool;
  }

  private next<T extends FromClient['op']>(
    p: ChildProcess,
    op: T,
    timeoutMs: number,
  ): Promise<Extract<FromClient, { op: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        p.off('message', onMsg);
        reject(new Error(`client process ${p.pid} gave no "${op}" in ${timeoutMs} ms`));
      }, timeoutMs);
      const onMsg = (m: FromClient) => {
        if (m.op !== op) return;
        clearTimeout(timer);
        p.off('message', onMsg);
        resolve(m as Extract<FromClient, { op: T }>);
      };
      p.on('message', onMsg);
    });
  }

  private ask<T extends FromClient['op']>(
    p: ChildProcess,
    msg: ToClient,
    op: T,
    timeoutMs: number,
  ): Promise<Extract<FromClient, { op: T }>> {
    const reply = this.next(p, op, timeoutMs);
    p.send(msg);
    return reply;
  }

  /**
   * Opens `total` sockets split evenly over the processes, all spread over `spreadMs`; their client
   * numbers (user ids) start at `offset`, so a second call adds sockets next to the first call's.
   */
  async connect(
    total: number,
    base: Omit<ConnectSpec, 'from' | 'count'>,
    offset = 0,
  ): Promise<ConnectResult & { total: number }> {
    const per = Math.ceil(total / this.procs.length);
    const results = await Promise.all(
      this.procs.map((p, k) => {
        const count = Math.max(0, Math.min(per, total - k * per));
        const from = offset + k * per;
        const spec: ConnectSpec = { ...base, from, count };
        return this.ask(p, { op: 'connect', spec }, 'connected', base.spreadMs + base.timeoutMs + 60_000);
      }),
    );
    const reasons: Record<string, number> = {};
    for (const r of results)
      for (const [k, v] of Object.entries(r.result.reasons)) reasons[k] = (reasons[k] ?? 0) + v;
    return {
      total,
      connected: results.reduce((a, r) => a + r.result.connected, 0),
      refused: results.reduce((a, r) => a + r.result.refused, 0),
      reasons,
      elapsedMs: Math.max(...results.map((r) => r.result.elapsedMs)),
    };
  }

  /** Takes (and resets) what every process saw for a phase. */
  async stats(phase: number): Promise<PhaseStats> {
    const all = await Promise.all(
      this.procs.map((p) => this.ask(p, { op: 'stats', phase }, 'stats', 30_000)),
    );
    return {
      delivered: all.reduce((a, s) => a + s.stats.delivered, 0),
      frames: all.reduce((a, s) => a + s.stats.frames, 0),
      latencies: all.flatMap((s) => s.stats.latencies),
      open: all.reduce((a, s) => a + s.stats.open, 0),
      lost: all.reduce((a, s) => a + s.stats.lost, 0),
      cpuMs: all.reduce((a, s) => a + s.stats.cpuMs, 0),
    };
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.procs.map((p) => this.ask(p, { op: 'close' }, 'closed', 60_000)));
  }

  stop(): void {
    for (const p of this.procs) if (p.exitCode === null) p.kill('SIGTERM');
  }
}
