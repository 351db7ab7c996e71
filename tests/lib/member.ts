import { tokenFor } from '@crowncast/testkit';
import WebSocket from 'ws';

interface WireEvent {
  type: string;
  id: string;
  room: string;
  seq: number;
  prevSeq: number;
  ts: string;
}

interface WireFrame {
  type: string;
  id?: string;
  room?: string;
  seq?: number;
  prevSeq?: number;
  ts?: string;
  for?: string;
  code?: string;
  events?: WireEvent[];
  data?: { resync?: boolean; reason?: string };
}

/**
 * A club member that behaves like a well-written client: it joins its room with `lastSeq: 0` (so
 * it must receive everything the stream holds for the room), reconnects to any live edge after any
 * close and resumes with the last seq it has, and on a gap (prevSeq not naming its last seq) leaves
 * and re-joins with that seq so the edge replays what was missed. It records what a verifier needs:
 * the event ids it received (each once), duplicates, gaps, resyncs and chain breaks.
 */
export class Member {
  readonly ids = new Set<string>();
  duplicates = 0;
  /** The first duplicates in detail (what a bug report needs). */
  readonly duplicateDetails: {
    id: string;
    seq: number;
    lastSeq: number;
    state: string;
    reconnects: number;
  }[] = [];
  gaps = 0;
  resyncs = 0;
  reconnects = 0;
  closeCodes: Record<string, number> = {};
  lastSeq = 0;
  joined = false;
  /** Commit-to-socket latencies (ms) of the ledger's live events, sampled by the caller's choice. */
  readonly latencies: number[] = [];
  private ws: WebSocket | null = null;
  private state: 'idle' | 'leaving' | 'joining' | 'joined' = 'idle';
  private stopped = false;
  private token = '';
  private n = 0;

  constructor(
    readonly userId: string,
    readonly clubId: string,
    private readonly edgeUrls: () => string[],
    private readonly opts: { sampleLatency?: boolean; pick?: number } = {},
  ) {}

  get room(): string {
    return `club:${this.clubId}`;
  }

  async start(): Promise<void> {
    this.token = await tokenFor(this.userId, { expiresInSec: 6 * 3600 });
    this.open();
  }

  /** Closes the socket on purpose (connection churn); the member comes back by itself. */
  churn(): void {
    this.ws?.close(1000);
  }

  stop(): Promise<void> {
    this.stopped = true;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      ws.terminate();
    });
  }

  private open(): void {
    if (this.stopped) return;
    const urls = this.edgeUrls();
    if (urls.length === 0) {
      this.retry();
      return;
    }
    const url = urls[((this.opts.pick ?? 0) + this.reconnects) % urls.length];
    const ws = new WebSocket(`${(url as string).replace(/^http/, 'ws')}/ws?token=${this.token}`, {
      perMessageDeflate: false,
      handshakeTimeout: 5000,
    });
    this.ws = ws;
    this.state = 'idle';
    this.joined = false;
    ws.on('message', (data: Buffer) => this.onFrame(JSON.parse(data.toString()) as WireFrame));
    ws.on('error', () => {});
    ws.once('close', (code) => {
      this.closeCodes[code] = (this.closeCodes[code] ?? 0) + 1;
      this.joined = false;
      if (this.ws === ws) this.ws = null;
      this.retry();
    });
  }

  private retry(): void {
    if (this.stopped) return;
    this.reconnects++;
    // Full jitter, so a dead edge's clients do not all hit the survivor in the same millisecond.
    setTimeout(() => this.open(), 50 + Math.random() * 400);
  }

  private send(msg: unknown): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private join(): void {
    this.state = 'joining';
    this.send({
      type: 'club:join',
      id: `j${++this.n}`,
      data: { clubId: this.clubId, lastSeq: this.lastSeq },
    });
  }

  private onFrame(f: WireFrame): void {
    if (f.type === 'connected') {
      this.join();
      return;
    }
    if (f.type === 'batch') {
      for (const e of f.events ?? []) this.onEvent(e);
      return;
    }
    if (f.type === 'ack' && f.for === 'club:leave' && this.state === 'leaving') {
      this.join();
      return;
    }
    if (f.type === 'ack' && f.for === 'club:join') {
      this.state = 'joined';
      this.joined = true;
      return;
    }
    if (f.type === 'error' && f.id?.startsWith('j')) {
      // MEMBERSHIP_UNAVAILABLE while NATS or the ledger restarts: ask again shortly.
      setTimeout(() => this.join(), 200);
      return;
    }
    if (f.type === 'resync:required' && f.room === this.room) {
      this.resyncs++;
      return;
    }
    if (f.seq !== undefined && f.room !== undefined) this.onEvent(f as WireEvent);
  }

  private duplicate(e: WireEvent): void {
    this.duplicates++;
    if (this.duplicateDetails.length < 5) {
      const d = {
        id: e.id,
        seq: e.seq,
        lastSeq: this.lastSeq,
        state: this.state,
        reconnects: this.reconnects,
      };
      this.duplicateDetails.push(d);
    }
  }

  private onEvent(e: WireEvent): void {
    if (e.room !== this.room || this.state === 'leaving') return;
    if (e.seq <= this.lastSeq) {
      if (this.ids.has(e.id)) this.duplicate(e);
      return;
    }
    if (e.prevSeq !== this.lastSeq) {
      // Something between lastSeq and this event never reached us: re-join from lastSeq.
      this.gaps++;
      this.state = 'leaving';
      this.send({ type: 'club:leave', id: `l${++this.n}`, data: { clubId: this.clubId } });
      return;
    }
    if (this.ids.has(e.id)) this.duplicate(e);
    else this.ids.add(e.id);
    this.lastSeq = e.seq;
    // The ledger's events only: a club:member:* event's ts is when the member came or went, which
    // presence publishes after the edge's notice batch and its own coalescing window, by design.
    if (this.opts.sampleLatency && this.state === 'joined' && !e.type.startsWith('club:member:'))
      this.latencies.push(Date.now() - Date.parse(e.ts));
  }
}
