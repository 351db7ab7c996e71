import type {
  AnimationPlayedData,
  ClientMessage,
  CloseCode,
  ConnectedFrame,
  Room,
  RoomEventType,
  RoomFrame,
  ServerFrame,
} from '@crowncast/protocol';
import { backoffDelay } from './backoff.js';
import { ServerClock } from './clock.js';
import { Emitter } from './emitter.js';
import { CrowncastError } from './errors.js';
import { type ConnectOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { type Quality, qualityOf } from './quality.js';
import { RequestQueue } from './request-queue.js';
import { RoomTracker } from './room-tracker.js';
import { connectUrl, OPEN, type WebSocketLike } from './socket.js';
import { type ClientEvents, type JoinResult, type RoomEventFrame, State } from './types.js';

// The close codes the client acts on, checked against the protocol's table by the compiler.
const AUTH_FAILED: (typeof CloseCode)['AUTH_FAILED'] = 4001;
const TOKEN_EXPIRED: (typeof CloseCode)['AUTH_TOKEN_EXPIRED'] = 4002;
const EXPIRED_UNREFRESHED: (typeof CloseCode)['AUTH_EXPIRED_UNREFRESHED'] = 4003;
const ORIGIN_NOT_ALLOWED: (typeof CloseCode)['ORIGIN_NOT_ALLOWED'] = 4004;
/** Sent by the client itself when it gives up on a link (no pong, no `connected`). */
const CLIENT_GAVE_UP = 4000;

type Request = Exclude<ClientMessage, { type: 'ping' }>;
type Pending = {
  resolve(data: Record<string, unknown>): void;
  reject(err: Error): void;
  timer: unknown;
  join?: Room;
};
type Waiter = { resolve(r: JoinResult): void; reject(err: Error): void };
type Joined = {
  kind: 'club' | 'game';
  id: string;
  result: JoinResult | null;
  waiters: Waiter[];
  retries: number;
};
/** Join errors that say "not now" rather than "no": the join is tried again. */
const RETRY_JOIN = new Set(['MEMBERSHIP_UNAVAILABLE', 'REPLAY_FAILED', 'REQUEST_TIMEOUT']);

/**
 * One connection to the edge, kept alive across losses: reconnects with backoff, rejoins its rooms
 * from their last seq, hands every room event to the app once and in order, and says when a room
 * must be reloaded by REST (`resync`). Create it with `connect()`.
 */
export class CrowncastClient extends Emitter<ClientEvents> {
  private readonly o: ResolvedOptions;
  private ws: WebSocketLike | null = null;
  private current = State.Connecting;
  private generation = 0;
  private attempt = 0;
  private n = 0;
  private drainAt: number | null = null;
  private me: string | null = null;
  private lastQuality: Quality | null = null;
  private lastRtt: number | null = null;
  private readonly timers = new Map<'connect' | 'ping' | 'pong' | 'refresh' | 'reconnect', unknown>();
  private readonly pending = new Map<string, Pending>();
  private readonly pings = new Map<string, number>();
  private readonly joined = new Map<Room, Joined>();
  private readonly tracker: RoomTracker;
  private readonly queue: RequestQueue<Request>;
  private readonly serverClock = new ServerClock();

  constructor(opts: ConnectOptions) {
    super();
    this.o = resolveOptions(opts);
    this.tracker = new RoomTracker(this.o.dedupWindow);
    this.queue = new RequestQueue(this.o.maxQueuedRequests);
    void this.open();
  }

  get state(): State {
    return this.current;
  }
  /** The signed-in user, from the last `connected`. */
  get userId(): string | null {
    return this.me;
  }
  /** Quality of the last ping round trip; null before the first pong. */
  get quality(): Quality | null {
    return this.lastQuality;
  }
  get rttMs(): number | null {
    return this.lastRtt;
  }
  /** Server time minus local time, ms (from `connected` and pongs). */
  get serverOffsetMs(): number {
    return this.serverClock.offsetMs;
  }
  /** The server's clock now, epoch ms. */
  serverNow(): number {
    return this.o.clock.now() + this.serverClock.offsetMs;
  }
  /** The seq of the last event of a room handed to the app. */
  lastSeq(room: Room): number | undefined {
    return this.tracker.seqOf(room);
  }
  /** Club and game rooms the client is in (rejoined after every reconnect). */
  get rooms(): Room[] {
    return [...this.joined.keys()];
  }

  /** Joins a club room. `lastSeq`: a resume point kept by the app (e.g. across page loads). */
  joinClub(clubId: string, opts: { lastSeq?: number } = {}): Promise<JoinResult> {
    return this.join('club', clubId, opts.lastSeq);
  }

  joinGame(gameId: string, opts: { lastSeq?: number } = {}): Promise<JoinResult> {
    return this.join('game', gameId, opts.lastSeq);
  }

  /** Leaves a club or game room: no more events, no rejoin after reconnects. */
  async leave(room: Room): Promise<void> {
    const j = this.joined.get(room);
    if (!j) return;
    this.joined.delete(room);
    for (const w of j.waiters) w.reject(new CrowncastError('CLIENT_CLOSED', `left ${room}`));
    if (this.current !== State.Connected) return;
    await (j.kind === 'club'
      ? this.request({ type: 'club:leave', data: { clubId: j.id } })
      : this.request({ type: 'game:leave', data: { gameId: j.id } }));
  }

  /** Tells the edge (and so the ledger's analytics) that a gift animation was shown. Queued while offline. */
  async reportAnimationPlayed(data: AnimationPlayedData): Promise<void> {
    await this.request({ type: 'gift:animation:played', data });
  }

  /** Tells presence the user is active (keeps them `online` rather than idle). Queued while offline. */
  async markActive(): Promise<void> {
    await this.request({ type: 'presence:activity' });
  }

  /** Closes for good: no reconnect; waiting requests fail with `CLIENT_CLOSED`. */
  close(): void {
    if (this.current === State.Closed) return;
    this.generation++;
    const ws = this.ws;
    this.teardown(new CrowncastError('CLIENT_CLOSED', 'the client was closed'));
    this.clearTimer('reconnect');
    for (const q of this.queue.drain())
      q.reject(new CrowncastError('CLIENT_CLOSED', 'the client was closed'));
    for (const j of this.joined.values())
      for (const w of j.waiters.splice(0)) w.reject(new CrowncastError('CLIENT_CLOSED', 'closed'));
    ws?.close(1000, 'CLIENT_CLOSED');
    this.setState(State.Closed);
  }

  // ---- connection lifecycle ----

  private async open(): Promise<void> {
    const gen = ++this.generation;
    this.setState(State.Connecting);
    let token: string;
    try {
      token = await this.o.getToken();
    } catch (err) {
      if (gen !== this.generation) return;
      this.emit('error', new CrowncastError('TOKEN_UNAVAILABLE', `getToken failed: ${String(err)}`));
      this.closed(CLIENT_GAVE_UP, 'TOKEN_UNAVAILABLE');
      return;
    }
    if (gen !== this.generation) return;
    const resume = {
      user: this.me ? this.tracker.seqOf(`user:${this.me}`) : undefined,
      global: this.tracker.seqOf('global'),
    };
    let ws: WebSocketLike;
    try {
      ws = new this.o.WebSocket(connectUrl(this.o.url, token, resume)) as WebSocketLike;
    } catch (err) {
      // e.g. a malformed URL: say so, and keep trying (the app may fix what getToken or the network gives).
      this.emit('error', new CrowncastError('CONNECTION_LOST', `cannot open the socket: ${String(err)}`));
      this.closed(CLIENT_GAVE_UP, 'OPEN_FAILED');
      return;
    }
    this.ws = ws;
    this.setTimer('connect', this.o.connectTimeoutMs, () => this.giveUp('CONNECT_TIMEOUT'));
    ws.onmessage = (ev) => {
      if (this.ws === ws) this.onMessage(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.ws === ws) this.closed(ev.code, ev.reason);
    };
    // A failed socket also fires close, which decides what happens next.
    ws.onerror = () => {};
  }

  /** Drops a link that stopped answering: browsers may take minutes to notice a dead TCP peer. */
  private giveUp(reason: string): void {
    const ws = this.ws;
    if (!ws) return;
    ws.onmessage = ws.onclose = null;
    try {
      ws.close(CLIENT_GAVE_UP, reason);
    } catch {
      // Closing a socket that never opened may throw in some implementations; it is gone either way.
    }
    this.closed(CLIENT_GAVE_UP, reason);
  }

  private closed(code: number, reason: string): void {
    this.teardown(new CrowncastError('CONNECTION_LOST', `connection lost (${code} ${reason})`, code));
    if (this.current === State.Closed) return;
    if (code === AUTH_FAILED || code === ORIGIN_NOT_ALLOWED) {
      this.emit('disconnected', { code, reason, reconnectInMs: null });
      this.emit('error', new CrowncastError(reason || 'AUTH_FAILED', 'the edge refused this client', code));
      this.close();
      return;
    }
    const delay = this.reconnectDelay(code);
    this.drainAt = null;
    this.setState(State.Disconnected);
    this.emit('disconnected', { code, reason, reconnectInMs: delay });
    this.setTimer('reconnect', delay, () => void this.open());
  }

  private reconnectDelay(code: number): number {
    if (this.drainAt !== null) return Math.max(0, this.drainAt - this.o.clock.now());
    // An expired token: retry at once with a fresh one, but only once in a row, so a getToken that
    // keeps returning stale tokens backs off like any other failure.
    const expired = code === TOKEN_EXPIRED || code === EXPIRED_UNREFRESHED;
    const delay =
      expired && this.attempt === 0 ? 0 : backoffDelay(this.attempt, this.o.backoff, this.o.random);
    this.attempt++;
    return delay;
  }

  /** Forgets the socket and everything in flight on it. */
  private teardown(err: CrowncastError): void {
    this.ws = null;
    for (const t of ['connect', 'ping', 'pong', 'refresh'] as const) this.clearTimer(t);
    this.pings.clear();
    for (const [id, p] of this.pending) {
      this.o.clock.clearTimeout(p.timer);
      // Joins are not failed: they are sent again, with lastSeq, after the reconnect.
      if (!p.join) p.reject(err);
      this.pending.delete(id);
    }
  }

  private onConnected(data: ConnectedFrame['data']): void {
    this.clearTimer('connect');
    this.serverClock.connected(data.serverTime, this.o.clock.now());
    this.me = data.userId;
    // An automatic room this client has seen nothing of resumes from where the edge began delivering.
    for (const [room, seq] of Object.entries(data.seqs ?? {}) as [Room, number][]) {
      if (this.tracker.seqOf(room) === undefined) this.tracker.setSeq(room, seq);
    }
    this.attempt = 0;
    this.setState(State.Connected);
    this.emit('connected', data);
    this.scheduleRefresh(data.tokenExpiresAt);
    this.ping();
    for (const [room, j] of this.joined) this.sendJoin(room, j);
    for (const q of this.queue.drain()) this.send(q.message, q);
  }

  // ---- frames ----

  private onMessage(raw: unknown): void {
    let f: ServerFrame;
    try {
      // The edge validated what it sends (room events against RoomEvent); the client trusts its
      // shapes and only guards against a frame that is not JSON at all.
      f = JSON.parse(String(raw)) as ServerFrame;
    } catch {
      this.emit('error', new CrowncastError('BAD_SERVER_FRAME', 'a frame was not JSON'));
      return;
    }
    switch (f.type) {
      case 'connected':
        this.onConnected(f.data);
        return;
      case 'ack':
        this.settle(f.id, f.data ?? {}, null);
        return;
      case 'error': {
        const err = new CrowncastError(f.code, f.message);
        if (f.id && this.pending.has(f.id)) this.settle(f.id, {}, err);
        else this.emit('error', err);
        return;
      }
      case 'batch':
        for (const e of f.events) this.onRoomFrame(e);
        return;
      case 'pong':
        this.onPong(f.id, f.data.serverTime);
        return;
      case 'resync:required':
        this.tracker.restart(f.room);
        this.emit('resync', { room: f.room, reason: f.data.reason, lastSeq: f.data.lastSeq });
        return;
      case 'room:left':
        this.joined.delete(f.room);
        this.emit('left', { room: f.room, reason: f.data.reason });
        return;
      case 'server:draining':
        this.drainAt = this.o.clock.now() + f.data.reconnectAfterMs;
        this.emit('draining', { reconnectAfterMs: f.data.reconnectAfterMs });
        return;
      case 'club:joined':
      case 'game:joined':
        return; // the join's ack already resolved joinClub/joinGame
      default:
        if ('seq' in f && 'room' in f) this.onRoomFrame(f);
    }
  }

  private onRoomFrame(f: RoomFrame): void {
    const v = this.tracker.check(f);
    if (!v.deliver) return;
    if (v.gap) this.emit('resync', { room: f.room, reason: 'gap', lastSeq: v.gap.lastSeq, seq: v.gap.seq });
    const frame = f as RoomEventFrame;
    this.emit('event', frame);
    this.emit(frame.type as RoomEventType, frame as never);
  }

  // ---- requests, rooms, ping, token ----

  private request(message: Request): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const q = { message, resolve: resolve as (r: unknown) => void, reject };
      if (this.current === State.Closed) reject(new CrowncastError('CLIENT_CLOSED', 'the client was closed'));
      else if (this.current === State.Connected) this.send(message, q);
      else this.queue.push(q);
    });
  }

  private send(message: Request | { type: 'ping'; id: string }, q?: Omit<Pending, 'timer'>): string {
    const id = message.type === 'ping' ? message.id : `r${++this.n}`;
    if (q) {
      const timer = this.o.clock.setTimeout(() => {
        this.pending.delete(id);
        q.reject(new CrowncastError('REQUEST_TIMEOUT', `no reply to ${message.type}`));
      }, this.o.requestTimeoutMs);
      this.pending.set(id, { ...q, timer });
    }
    if (this.ws?.readyState === OPEN) this.ws.send(JSON.stringify({ ...message, id }));
    return id;
  }

  private settle(id: string | undefined, data: Record<string, unknown>, err: CrowncastError | null): void {
    const p = id ? this.pending.get(id) : undefined;
    if (!id || !p) return;
    this.pending.delete(id);
    this.o.clock.clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(data);
  }

  private join(kind: 'club' | 'game', id: string, lastSeq: number | undefined): Promise<JoinResult> {
    const room: Room = `${kind}:${id}`;
    if (lastSeq !== undefined && this.tracker.seqOf(room) === undefined) this.tracker.setSeq(room, lastSeq);
    const existing = this.joined.get(room);
    if (existing?.result) return Promise.resolve(existing.result);
    return new Promise((resolve, reject) => {
      const j = existing ?? { kind, id, result: null, waiters: [], retries: 0 };
      j.waiters.push({ resolve, reject });
      if (existing) return;
      this.joined.set(room, j);
      if (this.current === State.Connected) this.sendJoin(room, j);
    });
  }

  private sendJoin(room: Room, j: Joined): void {
    const lastSeq = this.tracker.seqOf(room);
    const data = j.kind === 'club' ? { clubId: j.id, lastSeq } : { gameId: j.id, lastSeq };
    const message = { type: `${j.kind}:join`, data } as Request;
    const settle = (err: Error | null, ack?: Record<string, unknown>) => {
      if (this.joined.get(room) !== j) return;
      if (err && err instanceof CrowncastError && RETRY_JOIN.has(err.code)) {
        // The edge could not ask the ledger (or replay) this time: the room is still wanted.
        this.emit('error', err);
        const delay = backoffDelay(j.retries++, this.o.backoff, this.o.random);
        this.o.clock.setTimeout(() => {
          if (this.current === State.Connected && this.joined.get(room) === j) this.sendJoin(room, j);
        }, delay);
        return;
      }
      j.retries = 0;
      const waiters = j.waiters.splice(0);
      if (err) {
        this.joined.delete(room);
        for (const w of waiters) w.reject(err);
        if (!waiters.length) this.emit('error', err as CrowncastError);
        return;
      }
      // A room joined without a resume point takes the edge's: a rejoin then replays what came after.
      if (typeof ack?.seq === 'number' && this.tracker.seqOf(room) === undefined)
        this.tracker.setSeq(room, ack.seq);
      j.result = { room, replayed: Number(ack?.replayed ?? 0), resync: ack?.resync === true };
      for (const w of waiters) w.resolve(j.result);
      this.emit('joined', j.result);
    };
    this.send(message, { resolve: (ack) => settle(null, ack), reject: (e) => settle(e), join: room });
  }

  private ping(): void {
    const id = `p${++this.n}`;
    this.pings.set(id, this.o.clock.now());
    this.send({ type: 'ping', id });
    this.setTimer('pong', this.o.pongTimeoutMs, () => {
      this.setQuality('poor', this.o.pongTimeoutMs);
      this.giveUp('PING_TIMEOUT');
    });
  }

  private onPong(id: string | undefined, serverTime: string): void {
    const sentAt = id ? this.pings.get(id) : undefined;
    if (sentAt === undefined || !id) return;
    this.pings.delete(id);
    this.clearTimer('pong');
    const now = this.o.clock.now();
    this.serverClock.pong(serverTime, sentAt, now);
    this.setQuality(qualityOf(now - sentAt), now - sentAt);
    this.setTimer('ping', this.o.pingIntervalMs, () => this.ping());
  }

  private setQuality(q: Quality, rttMs: number): void {
    this.lastRtt = rttMs;
    if (q === this.lastQuality) return;
    this.lastQuality = q;
    this.emit('quality', { quality: q, rttMs });
  }

  private scheduleRefresh(expiresAt: number | null): void {
    if (expiresAt === null) return;
    const inMs = expiresAt - this.serverNow() - this.o.refreshBeforeMs;
    this.setTimer('refresh', Math.max(0, inMs), async () => {
      try {
        const token = await this.o.getToken();
        const ack = await this.request({ type: 'auth:refresh', data: { token } });
        this.scheduleRefresh(typeof ack.expiresAt === 'number' ? ack.expiresAt : null);
      } catch (err) {
        // The edge closes with 4003 at expiry; the reconnect then asks getToken() again.
        this.emit(
          'error',
          err instanceof CrowncastError ? err : new CrowncastError('TOKEN_UNAVAILABLE', String(err)),
        );
      }
    });
  }

  // ---- small helpers ----

  private setState(next: State): void {
    if (next === this.current) return;
    const previous = this.current;
    this.current = next;
    this.emit('state', { state: next, previous });
  }

  private setTimer(name: Parameters<typeof this.timers.set>[0], ms: number, fn: () => void): void {
    this.clearTimer(name);
    this.timers.set(
      name,
      this.o.clock.setTimeout(() => {
        this.timers.delete(name);
        fn();
      }, ms),
    );
  }

  private clearTimer(name: Parameters<typeof this.timers.set>[0]): void {
    const t = this.timers.get(name);
    if (t !== undefined) this.o.clock.clearTimeout(t);
    this.timers.delete(name);
  }
}

/** Opens a connection to the edge and keeps it open until `close()`. */
export function connect(opts: ConnectOptions): CrowncastClient {
  return new CrowncastClient(opts);
}
