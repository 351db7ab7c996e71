import { type Room, roomSubject } from '@crowncast/protocol';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { type LiveEvent, parseEnvelope } from './envelope.js';

export interface ReplayDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  prefix: string;
  maxEvents: number;
  onInvalid: (reason: string) => void;
}

export type ReplayResult = { ok: true; events: LiveEvent[] } | { ok: false; reason: 'not_held' | 'too_many' };

const FETCH_EXPIRES_MS = 2000;

/**
 * The room's events the stream holds after `lastSeq`, up to the room's head at call time (later
 * ones arrive live). Per room the stream drops oldest first, so if it still holds `lastSeq` itself
 * (for this room) it holds everything after it; if not, something may be lost: `not_held`.
 * `lastSeq` 0 means "whatever the stream holds".
 */
export async function readAfter(d: ReplayDeps, room: Room, lastSeq: number): Promise<ReplayResult> {
  const subject = roomSubject(room, d.prefix);
  if (lastSeq > 0) {
    const at = await d.jsm.direct.getMessage(d.stream, { seq: lastSeq }).catch(() => null);
    if (!at || at.subject !== subject) return { ok: false, reason: 'not_held' };
  }
  const head = await d.jsm.direct.getMessage(d.stream, { last_by_subj: subject }).catch(() => null);
  if (!head || head.seq <= lastSeq) return { ok: true, events: [] };

  const consumer = await d.js.consumers.get(d.stream, {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: lastSeq + 1,
  });
  const events: LiveEvent[] = [];
  // The consumer is filtered by room, so each stored event's predecessor in the room is the one before.
  let prevSeq = lastSeq;
  let last = lastSeq;
  let count = 0;
  try {
    while (last < head.seq) {
      const batch = await consumer.fetch({ max_messages: 500, expires: FETCH_EXPIRES_MS });
      let got = 0;
      for await (const m of batch) {
        got++;
        last = m.seq;
        if (++count > d.maxEvents) return { ok: false, reason: 'too_many' };
        const parsed = parseEnvelope(room, m.data, m.seq, prevSeq);
        // A dropped envelope is not a link of the chain clients see: the next valid event links
        // to the last valid one (as live delivery does).
        if (parsed.ok) {
          events.push(parsed.event);
          prevSeq = m.seq;
        } else d.onInvalid(parsed.reason);
        if (last >= head.seq) {
          batch.stop();
          break;
        }
      }
      // The head was read before the fetch; an empty fetch means the stream lost it meanwhile.
      if (got === 0) break;
    }
  } finally {
    await consumer.delete().catch(() => false);
  }
  return { ok: true, events };
}

/**
 * The room's latest stream sequence (0 when the stream holds none of it), read once the member's
 * live subscription is active: a client that has seen nothing yet resumes from here, so an event
 * published between this join and a reconnect is replayed. Undefined when the stream cannot say.
 */
export async function headSeq(d: ReplayDeps, room: Room): Promise<number | undefined> {
  try {
    const head = await d.jsm.direct.getMessage(d.stream, { last_by_subj: roomSubject(room, d.prefix) });
    return head ? head.seq : 0;
  } catch (err) {
    return /not found|no message/i.test(String((err as Error)?.message ?? err)) ? 0 : undefined;
  }
}
