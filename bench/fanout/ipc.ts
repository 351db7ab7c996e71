/** Messages between the orchestrator and its forked client and server processes. */

export type ClientKind = 'raw' | 'sio' | 'cc';

export interface ConnectSpec {
  kind: ClientKind;
  /** ws:// URL of the server (path included, no query). */
  url: string;
  /** Global index of this process's first socket. */
  from: number;
  count: number;
  /** Spread the opens evenly over this many ms. */
  spreadMs: number;
  /** Give up on a socket that is not in its room after this many ms. */
  timeoutMs: number;
  /** Attempts after a failed one (setup only; the storm counts refusals). */
  retries: number;
  /** Room of socket i: `i % rooms`; 0 means the one big room. */
  rooms: number;
  /** Room ids are `${roomPrefix}${n}`. */
  roomPrefix: string;
  /** Crowncast and Socket.IO: user ids are `${userPrefix}${i}` (each socket gets a token for its own). */
  userPrefix: string;
  sampleEvery: number;
}

export interface ConnectResult {
  connected: number;
  refused: number;
  reasons: Record<string, number>;
  /** ms from the first open attempt to the last socket in its room. */
  elapsedMs: number;
}

export interface PhaseStats {
  /** Events received (all sockets) for the phase. */
  delivered: number;
  /** Frames that carried them (a batch frame carries several). */
  frames: number;
  latencies: number[];
  /** Sockets open right now / closed after they were in. */
  open: number;
  lost: number;
  /** CPU the client processes used since the previous stats call, ms (summed over processes). */
  cpuMs: number;
}

export type ToClient =
  | { op: 'connect'; spec: ConnectSpec }
  | { op: 'stats'; phase: number }
  | { op: 'close' };

export type FromClient =
  | { op: 'ready' }
  | { op: 'connected'; result: ConnectResult }
  | { op: 'stats'; stats: PhaseStats }
  | { op: 'closed' };

/** Publish command for the raw server, which has no bus: the orchestrator stamps, the server frames. */
export type ToRawServer = { op: 'pub'; room: string; payload: string };
