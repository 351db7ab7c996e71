import { type Isolation, type RunningService, serviceEnv, spawnService } from '@crowncast/testkit';

/**
 * The whole Crowncast stack as real processes for one suite: a ledger, N edges and presence, all
 * on one isolation. Every process can be killed and started again; its replacement gets a fresh
 * port, so callers always read `ledger.url` / `edgeUrls()` anew instead of keeping a URL.
 */
export interface StackOptions {
  edges: number;
  presence: boolean;
  ledgerEnv?: Record<string, string>;
  edgeEnv?: Record<string, string>;
  presenceEnv?: Record<string, string>;
  logLevel?: string;
}

const ENTRY = {
  ledger: 'services/ledger/src/server.ts',
  edge: 'services/edge/src/server.ts',
  presence: 'services/presence/src/server.ts',
} as const;

/** Limits raised so a load test measures delivery, not the per-user anti-abuse limits. */
export const LOAD_LEDGER_ENV = {
  GIFT_RATE_LIMIT_PER_MIN: '1000000',
  GIFT_SPAM_SAME_PER_MIN: '1000000',
  RELAY_POLL_MS: '50',
};

export class Stack {
  ledger!: RunningService;
  readonly edges: (RunningService | null)[] = [];
  presence: RunningService | null = null;

  constructor(
    readonly iso: Isolation,
    readonly opts: StackOptions,
  ) {}

  private spawn(kind: keyof typeof ENTRY, extra: Record<string, string>, n = 0): Promise<RunningService> {
    const env = serviceEnv(this.iso, {
      ...(kind === 'edge' ? { EDGE_ID: `edge-${this.iso.id}-${n}-${Date.now()}` } : {}),
      ...extra,
    });
    return spawnService(ENTRY[kind], env, 30_000, { logLevel: this.opts.logLevel ?? 'warn' });
  }

  async start(): Promise<this> {
    // The ledger first: it migrates the schema and creates the ROOMS stream the edges read.
    this.ledger = await this.spawn('ledger', { ...LOAD_LEDGER_ENV, ...this.opts.ledgerEnv });
    const edges = await Promise.all(
      Array.from({ length: this.opts.edges }, (_, i) => this.spawn('edge', this.edgeEnv(), i)),
    );
    this.edges.push(...edges);
    if (this.opts.presence) this.presence = await this.spawn('presence', this.opts.presenceEnv ?? {});
    return this;
  }

  private edgeEnv(): Record<string, string> {
    return { DRAIN_SPREAD_MS: '500', PRESENCE_INTERVAL_MS: '500', ...this.opts.edgeEnv };
  }

  edgeUrls(): string[] {
    return this.edges.filter((e): e is RunningService => e !== null).map((e) => e.url);
  }

  /** Kills the ledger with `signal` and starts a new one (same isolation, new port). */
  async restartLedger(signal: NodeJS.Signals = 'SIGKILL', downMs = 0): Promise<void> {
    await this.ledger.stop(signal);
    if (downMs) await sleep(downMs);
    this.ledger = await this.spawn('ledger', { ...LOAD_LEDGER_ENV, ...this.opts.ledgerEnv });
  }

  /** Stops edge i; its clients reconnect to the others while it is away. */
  async stopEdge(i: number, signal: NodeJS.Signals): Promise<void> {
    const e = this.edges[i];
    this.edges[i] = null;
    if (e) await e.stop(signal);
  }

  async startEdge(i: number): Promise<void> {
    this.edges[i] = await this.spawn('edge', this.edgeEnv(), i);
  }

  async restartPresence(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.presence) await this.presence.stop(signal);
    this.presence = await this.spawn('presence', this.opts.presenceEnv ?? {});
  }

  services(): { name: string; svc: RunningService }[] {
    const out = [{ name: 'ledger', svc: this.ledger }];
    this.edges.forEach((e, i) => {
      if (e) out.push({ name: `edge${i}`, svc: e });
    });
    if (this.presence) out.push({ name: 'presence', svc: this.presence });
    return out;
  }

  /** Services whose process has exited by itself (a crash: nothing restarts it). */
  crashed(): string[] {
    return this.services()
      .filter(({ svc }) => svc.proc.exitCode !== null || svc.proc.signalCode !== null)
      .map(({ name }) => name);
  }

  /** Starts a crashed service again (the manual step a fault must not need; recorded as such). */
  async revive(name: string): Promise<void> {
    if (name === 'ledger')
      this.ledger = await this.spawn('ledger', { ...LOAD_LEDGER_ENV, ...this.opts.ledgerEnv });
    else if (name === 'presence') this.presence = await this.spawn('presence', this.opts.presenceEnv ?? {});
    else if (name.startsWith('edge')) await this.startEdge(Number(name.slice(4)));
  }

  /** Names of the services whose /health/ready is not 200 right now. */
  async notReady(): Promise<string[]> {
    const states = await Promise.all(
      this.services().map(async ({ name, svc }) => {
        const ok = await fetch(`${svc.url}/health/ready`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.status === 200,
          () => false,
        );
        return ok ? null : name;
      }),
    );
    return states.filter((s): s is string => s !== null);
  }

  async stop(): Promise<void> {
    await Promise.all(this.services().map(({ svc }) => svc.stop('SIGTERM')));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns true; false when `timeoutMs` passes first. */
export async function waitFor(fn: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return true;
    await sleep(everyMs);
  }
  return false;
}
