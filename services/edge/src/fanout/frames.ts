import { createRequire } from 'node:module';
import { pack } from 'msgpackr';

export type Encoding = 'json' | 'msgpack';

interface FrameOptions {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
}
interface SenderStatic {
  frame(data: Buffer, options: FrameOptions): Buffer[];
}

// @types/ws does not declare Sender and ws's exports map hides lib/; the CJS entry exposes it.
// ws is pinned (8.18.3) because this relies on Sender.frame returning [header, payload].
const { Sender } = createRequire(import.meta.url)('ws') as { Sender: SenderStatic };

const TEXT = 0x1;
const BINARY = 0x2;

/** The complete bytes of one unmasked, unfragmented server frame, ready to write to any socket. */
export function wsFrame(payload: Buffer, binary: boolean): Buffer {
  const [header, data] = Sender.frame(payload, {
    fin: true,
    rsv1: false,
    opcode: binary ? BINARY : TEXT,
    mask: false,
    readOnly: true,
  });
  return Buffer.concat([header as Buffer, data as Buffer]);
}

export function encode(value: unknown, encoding: Encoding): Buffer {
  return encoding === 'json' ? Buffer.from(JSON.stringify(value)) : pack(value);
}

/**
 * A message for many sockets: serialised and framed at most once per encoding, on first use, so
 * the cost of a room event does not grow with its members.
 */
export class SharedFrame {
  private json: Buffer | undefined;
  private msgpack: Buffer | undefined;

  constructor(
    readonly value: unknown,
    private readonly onBuilt: (encoding: Encoding) => void,
  ) {}

  bytes(encoding: Encoding): Buffer {
    if (encoding === 'json') {
      if (!this.json) {
        this.json = wsFrame(encode(this.value, 'json'), false);
        this.onBuilt('json');
      }
      return this.json;
    }
    if (!this.msgpack) {
      this.msgpack = wsFrame(encode(this.value, 'msgpack'), true);
      this.onBuilt('msgpack');
    }
    return this.msgpack;
  }
}
