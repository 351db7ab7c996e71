import type { Encoding } from '../fanout/frames.js';

/** What the fan-out needs from a client connection. */
export interface Conn {
  readonly id: string;
  readonly userId: string;
  readonly encoding: Encoding;
  /**
   * Writes pre-built frame bytes; false when the socket is gone or was closed as a slow consumer.
   * `now` (monoMs, see clock.ts) lets a room write read the clock once for all its sockets.
   */
  writeFrame(frame: Buffer, now?: number): boolean;
  /** Encodes and sends one control or per-connection frame. */
  send(value: object): boolean;
  close(code: number, reason: string): void;
  /** The send bound (bytes); a burst bigger than it must wait for the socket to drain. */
  readonly sendBufferMaxBytes: number;
  /** Resolves true once nothing is left unsent, false if the socket closed or `ms` passed first. */
  whenDrained(ms: number): Promise<boolean>;
  /** Closes as a slow consumer (4009). */
  closeSlow(): void;
}
