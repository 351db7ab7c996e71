import type { Sql, TransactionSql } from 'postgres';

/** One event as the outbox holds it: `envelope` is the exact JSON text that is published. */
export interface OutboxEvent {
  eventId: string;
  room: string;
  type: string;
  envelope: string;
}

const SEPARATOR = /[\t\n]/;

/**
 * A transaction's events as one outbox_batches row (see migration 004): one line per event, fields
 * split by tabs. JSON.stringify never emits a raw tab or newline, and ids, rooms and types are
 * checked here, so the text splits back exactly.
 */
export function encodeEvents(events: OutboxEvent[]): string {
  let text = '';
  for (const e of events) {
    if (SEPARATOR.test(e.eventId) || SEPARATOR.test(e.room) || SEPARATOR.test(e.type)) {
      throw new Error(`outbox: event ${JSON.stringify(e.eventId)} holds a tab or a newline`);
    }
    if (text) text += '\n';
    text += `${e.eventId}\t${e.room}\t${e.type}\t${e.envelope}`;
  }
  return text;
}

export function decodeEvents(text: string): OutboxEvent[] {
  return text.split('\n').map((line) => {
    const a = line.indexOf('\t');
    const b = line.indexOf('\t', a + 1);
    const c = line.indexOf('\t', b + 1);
    return {
      eventId: line.slice(0, a),
      room: line.slice(a + 1, b),
      type: line.slice(b + 1, c),
      envelope: line.slice(c + 1),
    };
  });
}

/** Writes a transaction's events as one outbox row and wakes the relay (both go out together). */
export async function writeOutbox(
  tx: TransactionSql | Sql,
  events: OutboxEvent[],
  notifyChannel: string,
): Promise<void> {
  if (events.length === 0) return;
  await Promise.all([
    tx`INSERT INTO outbox_batches (events, event_count) VALUES (${encodeEvents(events)}, ${events.length})`,
    tx`SELECT pg_notify(${notifyChannel}, '')`,
  ]);
}
