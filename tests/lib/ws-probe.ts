import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { unpack } from 'msgpackr';
import WebSocket from 'ws';

/** A raw view of one WebSocket: every frame received and how it ended (for abuse tests). */
export interface Probe {
  ws: WebSocket;
  frames: { type?: string; code?: string; id?: string }[];
  /** Resolves with the close code (1006 when the TCP connection just dropped). */
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves true once `connected` arrived, false if the socket closed first. */
  ready: Promise<boolean>;
  closeCode: number | null;
}

export interface ProbeOptions {
  token?: string;
  query?: string;
  protocol?: string;
  headers?: Record<string, string>;
  maxPayload?: number;
}

export function probe(edgeUrl: string, o: ProbeOptions = {}): Probe {
  const q = [o.token !== undefined ? `token=${encodeURIComponent(o.token)}` : '', o.query ?? '']
    .filter(Boolean)
    .join('&');
  const ws = new WebSocket(`${edgeUrl.replace(/^http/, 'ws')}/ws${q ? `?${q}` : ''}`, o.protocol ?? [], {
    perMessageDeflate: false,
    handshakeTimeout: 10_000,
    headers: o.headers ?? {},
  });
  const p: Probe = {
    ws,
    frames: [],
    closeCode: null,
    closed: new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        p.closeCode = code;
        resolve({ code, reason: reason.toString() });
      });
    }),
    ready: Promise.resolve(false),
  };
  p.ready = new Promise((resolve) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      try {
        const f = (isBinary ? unpack(data) : JSON.parse(data.toString())) as {
          type?: string;
          code?: string;
          id?: string;
        };
        p.frames.push(f);
        if (f.type === 'connected') resolve(true);
      } catch {
        p.frames.push({ type: '(undecodable)' });
      }
    });
    ws.once('close', () => resolve(false));
  });
  ws.on('error', () => {});
  return p;
}

/** Waits for a frame matching `pred` (false after `ms`). */
export async function frameWhere(p: Probe, pred: (f: Probe['frames'][number]) => boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (p.frames.some(pred)) return true;
    if (p.closeCode !== null) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/**
 * A hand-made upgrade over plain TCP, so frames can be malformed on purpose (reserved opcodes,
 * unmasked client frames, bad UTF-8) and upgrades can be dripped byte by byte (slowloris).
 */
export class RawWs {
  readonly sock: Socket;
  private buf = Buffer.alloc(0);
  upgraded = false;
  ended = false;
  /** The close code in the server's close frame, if one came. */
  serverClose: number | null = null;
  readonly done: Promise<void>;

  constructor(edgeUrl: string) {
    const u = new URL(edgeUrl);
    this.sock = new Socket();
    this.sock.connect(Number(u.port), u.hostname);
    this.sock.on('error', () => {});
    this.sock.on('data', (d: Buffer) => this.onData(d));
    this.done = new Promise((resolve) => this.sock.once('close', () => resolve()));
    this.done.then(() => {
      this.ended = true;
    });
  }

  upgradeRequest(path: string): string {
    const key = randomBytes(16).toString('base64');
    return [
      `GET ${path} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n');
  }

  /** Sends a whole upgrade and waits for the 101. */
  async upgrade(path: string, ms = 5000): Promise<boolean> {
    this.sock.write(this.upgradeRequest(path));
    const deadline = Date.now() + ms;
    while (!this.upgraded && !this.ended && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    return this.upgraded;
  }

  /** One frame; `mask: false` breaks RFC 6455 (clients must mask). */
  frame(opcode: number, payload: Buffer, o: { fin?: boolean; rsv?: number; mask?: boolean } = {}): void {
    const mask = o.mask ?? true;
    const len = payload.length;
    const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode];
    const m = mask ? 0x80 : 0;
    if (len < 126) head.push(m | len);
    else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff);
    else {
      head.push(m | 127, 0, 0, 0, 0);
      head.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
    }
    let body = payload;
    if (mask) {
      const key = randomBytes(4);
      body = Buffer.from(payload.map((b, i) => b ^ (key[i % 4] as number)));
      this.sock.write(Buffer.concat([Buffer.from(head), key, body]));
    } else this.sock.write(Buffer.concat([Buffer.from(head), body]));
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    if (!this.upgraded) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.upgraded = this.buf.subarray(0, 12).toString().includes('101');
      this.buf = this.buf.subarray(end + 4);
    }
    // Read server frames (unmasked) just far enough to find a close frame's code.
    while (this.buf.length >= 2) {
      const op = (this.buf[0] as number) & 0x0f;
      let len = (this.buf[1] as number) & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (this.buf.length < off + len) return;
      if (op === 0x8 && len >= 2) this.serverClose = this.buf.readUInt16BE(off);
      this.buf = this.buf.subarray(off + len);
    }
  }

  destroy(): void {
    this.sock.destroy();
  }
}
