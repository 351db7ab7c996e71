import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromMember, MemberReport, MemberSpec, ToMember } from './ipc.js';

const WORKER = fileURLToPath(new URL('./member-worker.ts', import.meta.url));

/** The forked member processes, driven over IPC; every wait is bounded. */
export class MemberPool {
  private constructor(private readonly procs: ChildProcess[]) {}

  static async start(n: number): Promise<MemberPool> {
    const procs = Array.from({ length: n }, () =>
      fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    const pool = new MemberPool(procs);
    await Promise.all(procs.map((p) => pool.next(p, 'ready', 30_000)));
    return pool;
  }

  private next<T extends FromMember['op']>(p: ChildProcess, op: T, ms: number) {
    return new Promise<Extract<FromMember, { op: T }>>((resolve, reject) => {
      const timer = setTimeout(() => {
        p.off('message', on);
        reject(new Error(`member process ${p.pid} gave no "${op}" in ${ms} ms`));
      }, ms);
      const on = (m: FromMember) => {
        if (m.op !== op) return;
        clearTimeout(timer);
        p.off('message', on);
        resolve(m as Extract<FromMember, { op: T }>);
      };
      p.on('message', on);
    });
  }

  private ask<T extends FromMember['op']>(p: ChildProcess, msg: ToMember, op: T, ms: number) {
    const reply = this.next(p, op, ms);
    p.send(msg);
    return reply;
  }

  /** Opens `total` member sockets split evenly over the processes. */
  async connect(total: number, base: Omit<MemberSpec, 'from' | 'count'>) {
    const per = Math.ceil(total / this.procs.length);
    const rs = await Promise.all(
      this.procs.map((p, k) => {
        const from = k * per;
        const count = Math.max(0, Math.min(per, total - from));
        return this.ask(
          p,
          { op: 'connect', spec: { ...base, from, count } },
          'connected',
          base.spreadMs + 180_000,
        );
      }),
    );
    const failed: Record<string, number> = {};
    for (const r of rs) for (const [k, v] of Object.entries(r.failed)) failed[k] = (failed[k] ?? 0) + v;
    return { connected: rs.reduce((a, r) => a + r.connected, 0), failed };
  }

  async report(): Promise<MemberReport> {
    const rs = await Promise.all(this.procs.map((p) => this.ask(p, { op: 'report' }, 'report', 60_000)));
    return {
      connected: rs.reduce((a, r) => a + r.report.connected, 0),
      failed: {},
      open: rs.reduce((a, r) => a + r.report.open, 0),
      perSocket: rs.flatMap((r) => r.report.perSocket),
      duplicated: rs.reduce((a, r) => a + r.report.duplicated, 0),
      latencies: rs.flatMap((r) => r.report.latencies),
      dropped: rs.reduce((a, r) => a + r.report.dropped, 0),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.procs.map((p) => this.ask(p, { op: 'close' }, 'closed', 60_000))).catch(() => {});
    for (const p of this.procs) if (p.exitCode === null) p.kill('SIGTERM');
  }
}
