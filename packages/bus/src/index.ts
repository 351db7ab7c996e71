import {
  DiscardPolicy,
  type JetStreamManager,
  jetstreamManager,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { connect, type Msg, type NatsConnection, nanos } from '@nats-io/transport-node';

export type { NatsConnection };

export interface RoomsStreamOptions {
  /** Stream name, ROOMS in production. */
  name: string;
  /** Subject prefix ('' in production). */
  prefix: string;
  /** Events kept per room subject. */
  maxMsgsPerSubject: number;
  /** Oldest event kept, ms. */
  maxAgeMs: number;
  /** Window in which a re-publish with the same Nats-Msg-Id is dropped, ms. */
  duplicateWindowMs: number;
  replicas: number;
}

export const DEFAULT_ROOMS_STREAM: Omit<RoomsStreamOptions, 'name' | 'prefix'> = {
  maxMsgsPerSubject: 10_000,
  maxAgeMs: 24 * 3600_000,
  duplicateWindowMs: 10 * 60_000,
  replicas: 1,
};

/**
 * Connects to NATS with endless reconnects: a NATS restart must heal by itself. Without async traces:
 * nats.js otherwise builds an Error (a stack capture) for every request up front, in case it fails;
 * the edge makes requests on every connect and join (stream reads, membership), and our logs carry
 * the error's message and subject, not that stack.
 */
export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: url.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 10_000,
    noAsyncTraces: true,
  });
}

function roomsStreamConfig(o: RoomsStreamOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: o.name,
    subjects: [`${o.prefix}room.>`],
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: o.maxMsgsPerSubject,
    max_age: nanos(o.maxAgeMs),
    duplicate_window: nanos(o.duplicateWindowMs),
    num_replicas: o.replicas,
    allow_direct: true,
    // Every stored event is re-published on live.room.> with Nats-Sequence and Nats-Last-Sequence
    // headers, so edges get a per-room seq/prevSeq chain with a plain core subscription.
    republish: { src: `${o.prefix}room.>`, dest: `${o.prefix}live.room.>` },
  };
}

/** Creates the ROOMS stream, or updates it to the wanted limits. Safe to call from every replica. */
export async function ensureRoomsStream(
  nc: NatsConnection,
  o: RoomsStreamOptions,
): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  const cfg = roomsStreamConfig(o);
  try {
    await jsm.streams.info(o.name);
    const { name: _n, storage: _s, ...updatable } = cfg;
    await jsm.streams.update(o.name, updatable);
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    try {
      await jsm.streams.add(cfg);
    } catch (addErr) {
      // Another replica created it in between.
      if (!/already in use/i.test(String(addErr))) throw addErr;
    }
  }
  return jsm;
}

function isStreamNotFound(err: unknown): boolean {
  return /stream not found/i.test(String((err as Error)?.message ?? err));
}

/** The stream sequence and the previous sequence of the same room, from a republished message. */
export function liveSequence(msg: Msg): { seq: number; prevSeq: number } | null {
  const seq = Number(msg.headers?.get('Nats-Sequence'));
  const prev = Number(msg.headers?.get('Nats-Last-Sequence') || 0);
  if (!Number.isSafeInteger(seq) || seq <= 0 || !Number.isSafeInteger(prev) || prev < 0) return null;
  return { seq, prevSeq: prev };
}
