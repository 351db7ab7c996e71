import type { NatsConnection } from '@crowncast/bus';
import type { Room } from '@crowncast/protocol';
import { type Isolation, ledgerApi, type RunningService, serviceEnv, spawnService } from '@crowncast/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { unpack } from 'msgpackr';
import WebSocket from 'ws';
import type { Conn } from '../src/conn/types.js';
import { headSeq, type ReplayDeps } from '../src/fanout/replay.js';

/** Starts the real ledger (it migrates its schema and creates the ROOMS stream). */
export function startLedger(iso: Isolation, extra: Record<string, string> = {}): Promise<RunningService> {
  return spawnService(
    'services/ledger/src/server.ts',
    serviceEnv(iso, {
      GIFT_RATE_LIMIT_PER_MIN: '10000',
      GIFT_SPAM_SAME_PER_MIN: '10000',
      RELAY_POLL_MS: '50',
      ...extra,
    }),
  );
}

export function startEdge(iso: Isolation, extra: Record<string, string> = {}): Promise<RunningService> {
  return spawnService(
    'services/edge/src/server.ts',
    serviceEnv(iso, { LOG_LEVEL: 'info', DRAIN_SPREAD_MS: '200', ...extra }),
  );
}

/** The ledger's admin API (what the host app would call), through testkit's ledger client. */
export function admin(ledger: RunningService) {
  const api = ledgerApi(ledger.url);
  return {
    user: (id: string) => api.admin('PUT', `/admin/users/${id}`, { username: id }),
    grant: (id: string, amount: number) => api.admin('POST', `/admin/users/${id}/grants`, { amount }),
    club: (id: string) => api.admin('PUT', `/admin/clubs/${id}`, { name: `Club ${id}` }),
    member: (clubId: string, userId: string, member = true) =>
      api.admin(member ? 'PUT' : 'DELETE', `/admin/clubs/${clubId}/members/${userId}`),
    gift: (id: string, price = 10) => api.gift(id, price),
  };
}

export async function sendClubGift(ledger: RunningService, token: string, clubId: string, giftId: string) {
  const res = await fetch(`${ledger.url}/clubs/${clubId}/gifts/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ giftId, quantity: 1 }),
  });
  const body = (await res.json()) as { success: boolean; data: { giftTransactionId: string } };
  if (res.status !== 200) throw new Error(`gift failed: ${res.status} ${JSON.stringify(body)}`);
  return body.data;
}

export interface Frame {
  type: string;
  id?: string;
  room?: string;
  seq?: number;
  prevSeq?: number;
  code?: string;
  for?: string;
  data?: Record<string, unknown>;
  events?: Frame[];
}

/** A test client: records every frame (raw bytes too) and the close code. */
export class Client {
  readonly frames: Frame[] = [];
  readonly raw: Buffer[] = [];
  closeCode: number | null = null;
  closeReason = '';
  readonly closed: Promise<number>;
  readonly opened: Promise<void>;
  private n = 0;
  private waiters: (() => void)[] = [];

  constructor(
    readonly ws: WebSocket,
    readonly binary = false,
  ) {
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve(code);
      }),
    );
    ws.on('message', (data: Buffer, isBinary) => {
      this.raw.push(Buffer.from(data));
      this.frames.push((isBinary ? unpack(data) : JSON.parse(data.toString())) as Frame);
      this.wake();
    });
    ws.on('error', () => {});
  }

  static connect(
    edgeUrl: string,
    opts: { token?: string; query?: string; header?: boolean; origin?: string; protocol?: string } = {},
  ): Client {
    const base = edgeUrl.replace(/^http/, 'ws');
    const q = new URLSearchParams(opts.query ?? '');
    if (opts.token && !opts.header) q.set('token', opts.token);
    const url = `${base}/ws${q.size ? `?${q}` : ''}`;
    const headers: Record<string, string> = {};
    if (opts.token && opts.header) headers.authorization = `Bearer ${opts.token}`;
    const ws = new WebSocket(url, opts.protocol ? [opts.protocol] : [], {
      headers,
      ...(opts.origin ? { origin: opts.origin } : {}),
      skipUTF8Validation: true,
    });
    return new Client(ws, opts.protocol === 'crowncast.msgpack');
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until pred holds over the frames seen so far. */
  async until<T>(
    pred: (frames: Frame[]) => T | undefined | false,
    timeoutMs = 8000,
    what = 'condition',
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred(this.frames);
      if (v) return v;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames).slice(-1500)}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  frame(type: string, timeoutMs?: number): Promise<Frame> {
    return this.until((fs) => fs.find((f) => f.type === type), timeoutMs, `a ${type} frame`);
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** Sends a request with an id and waits for its ack or error. */
  async request(type: string, data?: unknown, timeoutMs?: number): Promise<Frame> {
    const id = `r${++this.n}`;
    this.send({ type, id, ...(data === undefined ? {} : { data }) });
    return this.until(
      (fs) => fs.find((f) => f.id === id && (f.type === 'ack' || f.type === 'error')),
      timeoutMs,
      `reply to ${type}`,
    );
  }

  /** Room events in arrival order, batches unpacked. */
  events(room?: string): Frame[] {
    const out: Frame[] = [];
    for (const f of this.frames) {
      const list = f.type === 'batch' ? (f.events ?? []) : f.seq !== undefined ? [f] : [];
      for (const e of list) if (!room || e.room === room) out.push(e);
    }
    return out;
  }

  close(): Promise<number> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }
}

/** Reads one counter or gauge (summed over labels matching `labels`) from /metrics. */
export async function metric(edge: RunningService, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${edge.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})?\s+([0-9.e+-]+)$/.exec(line);
    if (m && m[1] === name && (m[2] ?? '').includes(labels)) sum += Number(m[3]);
  }
  return sum;
}

/** Asserts a room's chain: strictly increasing seq, each prevSeq the previous seq. */
export function assertChain(events: Frame[], from = 0): void {
  let prev = from;
  for (const e of events) {
    if (e.prevSeq !== prev || (e.seq ?? 0) <= prev) {
      throw new Error(`broken chain at seq ${e.seq}: prevSeq ${e.prevSeq}, expected ${prev}`);
    }
    prev = e.seq as number;
  }
}

/** The hub's head reader on the isolation's real ROOMS stream, as app.ts wires it. */
export async function streamHead(
  nc: NatsConnection,
  iso: Isolation,
): Promise<(room: Room) => Promise<number | undefined>> {
  const deps: ReplayDeps = {
    js: jetstream(nc),
    jsm: await jetstreamManager(nc, { checkAPI: false }),
    stream: iso.stream,
    prefix: iso.prefix,
    maxEvents: 1_000,
    onInvalid: () => undefined,
  };
  return (room) => headSeq(deps, room);
}

/**
 * A hub member without a socket, for tests that drive the hub directly: it only takes frames
 * (subclasses say what a write does); the rest of a connection is inert.
 */
export abstract class FrameSink implements Conn {
  readonly encoding = 'json' as const;
  readonly sendBufferMaxBytes = 1 << 20;
  readonly userId: string = 'u';
  constructor(readonly id: string) {}
  abstract writeFrame(frame: Buffer): boolean;
  send(): boolean {
    return true;
  }
  close(): void {}
  closeSlow(): void {}
  whenDrained(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

/** The JSON payload of an unmasked server frame (2-byte header, +2 for a 16-bit length, +8 for a 64-bit one). */
export function framePayload<T>(frame: Buffer): T {
  const len = frame[1] as number;
  return JSON.parse(frame.subarray(len === 126 ? 4 : len === 127 ? 10 : 2).toString('utf8')) as T;
}
