import { CloseCode, type PresenceConnection, type Room } from '@crowncast/protocol';
import type { WebSocket } from 'ws';
import { type Encoding, encode } from '../fanout/frames.js';
import type { EdgeMetrics } from '../plugins/metrics.js';
import type { Conn } from './types.js';

interface RawSender {
  sendFrame(list: Buffer[]): void;
}

export interface ConnectionLimits {
  sendBufferMaxBytes: number;
  messagesPerMin: number;
}

/**
 * One client socket. Room frames arrive pre-built and are written as they are; a socket whose unsent
 * bytes would pass the bound is closed as a slow consumer instead of buffering without limit.
 */
export class EdgeConnection implements Conn {
  readonly rooms = new Set<Room>();
  lastActivityAt = Date.now();
  alive = true;
  tokenExpiresAt: number | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private windowStart = Date.now();
  private windowCount = 0;
  private closed = false;
  private readonly sender: RawSender;

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly encoding: Encoding,
    readonly socket: WebSocket,
    private readonly limits: ConnectionLimits,
    private readonly metrics: EdgeMetrics,
    private readonly onClosed: (c: EdgeConnection) => void,
  ) {
    // ws's Sender.sendFrame is what ws.send ends in; calling it with our pre-built bytes skips the
    // per-socket serialisation and framing (ws is pinned, see fanout/frames.ts).
    this.sender = (socket as unknown as { _sender: RawSender })._sender;
    socket.once('close', () => this.cleanup());
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === this.socket.OPEN;
  }

  writeFrame(frame: Buffer): boolean {
    if (!this.isOpen) return false;
    if (this.socket.bufferedAmount + frame.length > this.limits.sendBufferMaxBytes) {
      this.metrics.slowConsumers.inc();
      this.close(CloseCode.SLOW_CONSUMER, 'SLOW_CONSUMER');
      return false;
    }
    this.sender.sendFrame([frame]);
    return true;
  }

  send(value: object): boolean {
    if (!this.isOpen) return false;
    const payload = encode(value, this.encoding);
    if (this.socket.bufferedAmount + payload.length > this.limits.sendBufferMaxBytes) {
      this.metrics.slowConsumers.inc();
      this.close(CloseCode.SLOW_CONSUMER, 'SLOW_CONSUMER');
      return false;
    }
    this.socket.send(payload, { binary: this.encoding === 'msgpack' });
    this.metrics.framesOut.inc({ kind: 'control' });
    return true;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.metrics.closes.inc({ code: String(code) });
    // Leave rooms now: ws keeps a closing socket around until the close handshake ends.
    this.cleanup();
    this.socket.close(code, reason);
  }

  terminate(reason: string): void {
    if (this.closed) return;
    this.metrics.closes.inc({ code: reason });
    this.cleanup();
    this.socket.terminate();
  }

  /** Counts one inbound message; false once the per-minute budget is spent. */
  countMessage(now = Date.now()): boolean {
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    this.lastActivityAt = now;
    return ++this.windowCount <= this.limits.messagesPerMin;
  }

  /** (Re)arms the close for a token that expires unrefreshed. */
  setTokenExpiry(expiresAt: number | null): void {
    this.tokenExpiresAt = expiresAt;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    if (expiresAt === null) return;
    const ms = Math.min(Math.max(0, expiresAt - Date.now()), 2 ** 31 - 1);
    this.expiryTimer = setTimeout(
      () => this.close(CloseCode.AUTH_EXPIRED_UNREFRESHED, 'AUTH_EXPIRED_UNREFRESHED'),
      ms,
    );
    this.expiryTimer.unref();
  }

  presence(): PresenceConnection {
    const rooms = [...this.rooms].filter((r) => r !== 'global' && r !== `user:${this.userId}`).slice(0, 200);
    return { connectionId: this.id, userId: this.userId, rooms, lastActivityAt: this.lastActivityAt };
  }

  private cleanup() {
    if (this.closed) return;
    this.closed = true;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.onClosed(this);
  }
}
