import { CloseCode, type PresenceConnection, type Room } from '@crowncast/protocol';
import { monoMs } from '../clock.js';
import { type Encoding, encode } from '../fanout/frames.js';
import type { EdgeMetrics } from '../plugins/metrics.js';
import type { EdgeSocket, SocketOwner } from './socket.js';
import type { Conn } from './types.js';

/** The net.Socket under ws's WebSocket (ws is pinned, see fanout/frames.ts). */
interface WithRawSocket {
  _socket: { write(data: Buffer): boolean };
}

const NO_ROOMS: readonly Room[] = Object.freeze([]);
const AUTO_USER = 1;
const AUTO_GLOBAL = 2;

/** What every connection of a gateway shares (one object: a field per connection is memory per connection). */
export interface ConnectionShared {
  sendBufferMaxBytes: number;
  /** Oldest unsent data a socket may hold, ms; older: closed as a slow consumer. */
  sendMaxLagMs: number;
  messagesPerMin: number;
  /**
   * Connection ids are this process's prefix and the connection's number: built when asked for (the
   * `connected` frame, presence, logs), so a connection holds a small integer, not a 36-character
   * UUID string (~56 bytes per connection).
   */
  idPrefix: string;
  metrics: EdgeMetrics;
  /** An inbound message of a connection. */
  onMessage: (c: EdgeConnection, data: Buffer, isBinary: boolean) => void;
  /** The connection closed (either side); called once. */
  onClosed: (c: EdgeConnection) => void;
}

/**
 * One client socket. Room frames arrive pre-built and are written as they are; a socket whose unsent
 * bytes would pass the bound is closed as a slow consumer instead of buffering without limit.
 */
export class EdgeConnection implements Conn, SocketOwner {
  /**
   * The rooms joined besides the automatic ones, in join order: an array replaced (concat and slice,
   * not push and splice) on each join and leave, so its storage is exactly as long as it needs to be,
   * and one shared empty array while there are none (most connections). A Set, or an array grown by
   * push (17 slots at once), costs ~120 bytes more per connection, and joins are rare next to
   * deliveries.
   */
  private joined: readonly Room[] = NO_ROOMS;
  /**
   * Which automatic rooms are joined (AUTO_USER, AUTO_GLOBAL bits): every connection is in both, and
   * holding them in `joined` was an array per connection (~64 bytes).
   */
  private auto = 0;
  /** monoMs() of the last inbound message. */
  private lastActivity = monoMs();
  alive = true;
  /**
   * When the token expires, epoch seconds (JWT exp); the gateway's sweep closes the connection then
   * (4003) unless refreshed.
   */
  private tokenExpiresAtSec: number | null = null;
  /** Rooms whose join is under way (membership check, replay); created on first use. */
  private joining: Set<Room> | null = null;
  private windowStart = monoMs();
  private windowCount = 0;
  /**
   * Lag tracking in O(1): bytes ever handed to the socket, and a mark (when, and the byte count then)
   * for the oldest write not yet known to have left. While the mark's bytes are unsent, data at least
   * that old is waiting; once they left, the next write sets a new mark.
   */
  private written = 0;
  private markAt = 0;
  private markEnd = 0;

  constructor(
    /** This connection's number in its process (see `id`). */
    private readonly serial: number,
    readonly userId: string,
    readonly encoding: Encoding,
    readonly socket: EdgeSocket,
    private readonly shared: ConnectionShared,
  ) {
    socket.owner = this;
  }

  /** Unique across edges and restarts: a random per-process prefix and the connection's number. */
  get id(): string {
    return this.shared.idPrefix + this.serial.toString(36);
  }

  received(data: Buffer, isBinary: boolean): void {
    this.shared.onMessage(this, data, isBinary);
  }

  /** Every room joined: the automatic ones first (private room, `global`), then the others in join order. */
  get rooms(): readonly Room[] {
    if (this.auto === 0) return this.joined;
    const auto: Room[] = [];
    if (this.auto & AUTO_USER) auto.push(`user:${this.userId}`);
    if (this.auto & AUTO_GLOBAL) auto.push('global');
    return auto.concat(this.joined);
  }

  get roomCount(): number {
    return (this.auto & AUTO_USER ? 1 : 0) + (this.auto & AUTO_GLOBAL ? 1 : 0) + this.joined.length;
  }

  /** AUTO_USER, AUTO_GLOBAL, or 0 for any other room. */
  private autoBit(room: Room): number {
    if (room === 'global') return AUTO_GLOBAL;
    const own =
      room.length === 5 + this.userId.length && room.startsWith('user:') && room.endsWith(this.userId);
    return own ? AUTO_USER : 0;
  }

  hasRoom(room: Room): boolean {
    const bit = this.autoBit(room);
    return bit ? (this.auto & bit) !== 0 : this.joined.includes(room);
  }

  addRoom(room: Room): void {
    const bit = this.autoBit(room);
    if (bit) this.auto |= bit;
    else if (!this.joined.includes(room)) this.joined = this.joined.concat(room);
  }

  /** False if the connection was not in the room. */
  removeRoom(room: Room): boolean {
    const bit = this.autoBit(room);
    if (bit) {
      if ((this.auto & bit) === 0) return false;
      this.auto &= ~bit;
      return true;
    }
    const i = this.joined.indexOf(room);
    if (i < 0) return false;
    const rest = this.joined.slice(0, i).concat(this.joined.slice(i + 1));
    this.joined = rest.length === 0 ? NO_ROOMS : rest;
    return true;
  }

  isJoining(room: Room): boolean {
    return this.joining?.has(room) ?? false;
  }

  get joiningCount(): number {
    return this.joining?.size ?? 0;
  }

  beginJoin(room: Room): void {
    if (!this.joining) this.joining = new Set();
    this.joining.add(room);
  }

  endJoin(room: Room): void {
    this.joining?.delete(room);
    if (this.joining?.size === 0) this.joining = null;
  }

  /** The socket closed (from either side). */
  socketClosed(): void {
    this.cleanup();
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === this.socket.OPEN;
  }

  get sendBufferMaxBytes(): number {
    return this.shared.sendBufferMaxBytes;
  }

  closeSlow(): void {
    this.shared.metrics.slowConsumers.inc();
    this.close(CloseCode.SLOW_CONSUMER, 'SLOW_CONSUMER');
  }

  whenDrained(ms: number): Promise<boolean> {
    if (!this.isOpen) return Promise.resolve(false);
    if (this.socket.bufferedAmount === 0) return Promise.resolve(true);
    // ws writes straight to the net.Socket, whose 'drain' says its buffer emptied.
    const raw = (this.socket as unknown as { _socket: NodeJS.EventEmitter })._socket;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        raw.off('drain', onDrain);
        this.socket.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(this.isOpen);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      raw.on('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /**
   * `now` is monoMs() as the caller read it once for the whole room write, so a socket's lag is
   * measured from the start of the room write that queued its data (off by at most one room write's
   * duration). Per socket this reads ws's bufferedAmount getter once and builds no list.
   */
  writeFrame(frame: Buffer, now = monoMs()): boolean {
    if (!this.isOpen) return false;
    const buffered = this.socket.bufferedAmount;
    if (this.lagging(frame.length, buffered, now)) return false;
    if (buffered + frame.length > this.shared.sendBufferMaxBytes) {
      this.closeSlow();
      return false;
    }
    // What ws's send ends in (Sender.sendFrame writes a one-piece frame straight to the net.Socket),
    // with our pre-built bytes: no per-socket serialisation, framing or list (ws is pinned, see
    // fanout/frames.ts; test/fanout.test.ts checks that every member gets the same bytes).
    (this.socket as unknown as WithRawSocket)._socket.write(frame);
    return true;
  }

  send(value: object): boolean {
    if (!this.isOpen) return false;
    const payload = encode(value, this.encoding);
    // + the frame header ws adds (2, 4 or 10 bytes), so the byte count matches bufferedAmount.
    const header = payload.length < 126 ? 2 : payload.length < 65536 ? 4 : 10;
    const buffered = this.socket.bufferedAmount;
    if (this.lagging(payload.length + header, buffered, monoMs())) return false;
    if (buffered + payload.length > this.shared.sendBufferMaxBytes) {
      this.closeSlow();
      return false;
    }
    this.socket.send(payload, { binary: this.encoding === 'msgpack' });
    this.shared.metrics.framesOut.inc({ kind: 'control' });
    return true;
  }

  /**
   * Accounts a write of `bytes` that is about to happen (`buffered`: the socket's unsent bytes before
   * it; `now`: monoMs()); true (and closed as a slow consumer) when this socket's oldest unsent data
   * is older than the lag bound: a byte bound alone lets a socket fall minutes behind at a low event
   * rate.
   */
  private lagging(bytes: number, buffered: number, now: number): boolean {
    if (this.markAt !== 0) {
      const sent = this.written - buffered;
      if (sent >= this.markEnd) this.markAt = 0;
      else if (now - this.markAt > this.shared.sendMaxLagMs) {
        this.shared.metrics.slowConsumers.inc();
        this.close(CloseCode.SLOW_CONSUMER, 'SLOW_CONSUMER');
        return true;
      }
    }
    this.written += bytes;
    if (this.markAt === 0) {
      this.markAt = now;
      this.markEnd = this.written;
    }
    return false;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.shared.metrics.closes.inc({ code: String(code) });
    // Leave rooms now: ws keeps a closing socket around until the close handshake ends.
    this.cleanup();
    this.socket.close(code, reason);
  }

  terminate(reason: string): void {
    if (this.closed) return;
    this.shared.metrics.closes.inc({ code: reason });
    this.cleanup();
    this.socket.terminate();
  }

  /** Counts one inbound message; false once the per-minute budget is spent. */
  countMessage(): boolean {
    const now = monoMs();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    this.lastActivity = now;
    return ++this.windowCount <= this.shared.messagesPerMin;
  }

  /** Sets (or, after auth:refresh, moves) the moment the gateway's expiry sweep closes this connection. */
  setTokenExpiry(expiresAt: number | null): void {
    this.tokenExpiresAtSec = expiresAt === null ? null : Math.ceil(expiresAt / 1000);
  }

  /** Closes with 4003 when the token has expired unrefreshed (`now`: epoch ms); true if it did. */
  closeIfExpired(now: number): boolean {
    if (this.tokenExpiresAtSec === null || this.tokenExpiresAtSec * 1000 > now) return false;
    this.close(CloseCode.AUTH_EXPIRED_UNREFRESHED, 'AUTH_EXPIRED_UNREFRESHED');
    return true;
  }

  presence(): PresenceConnection {
    const rooms = this.joined.slice(0, 200);
    const lastActivityAt = Date.now() - (monoMs() - this.lastActivity);
    return { connectionId: this.id, userId: this.userId, rooms, lastActivityAt };
  }

  /** Closed (by either side): its socket no longer reports to it. Derived, not a field per connection. */
  private get closed(): boolean {
    return this.socket.owner !== this;
  }

  private cleanup() {
    if (this.closed) return;
    this.socket.owner = undefined;
    this.shared.onClosed(this);
  }
}
