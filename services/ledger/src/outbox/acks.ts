import { createInbox, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';

export interface Publication {
  subject: string;
  data: string;
  /** Nats-Msg-Id: the stream drops a second publish with the same id. */
  msgId: string;
}

/**
 * JetStream acknowledges a publish on the message's reply subject. nats.js's js.publish() makes each
 * publish a request of its own (a timer, pre-built error objects); at several events per gift that
 * was the ledger's largest CPU cost. Here a round is sent as plain publishes, in order, whose replies
 * all land on one wildcard subscription, and the round waits for its acks under one timer.
 */
export function createAckedPublisher(nc: NatsConnection) {
  const inbox = createInbox();
  const waiting = new Map<string, (failure: string | null) => void>();
  const sub = nc.subscribe(`${inbox}.>`, {
    callback: (err, msg) => {
      if (err) return;
      const settle = waiting.get(msg.subject);
      if (!settle) return;
      waiting.delete(msg.subject);
      settle(ackFailure(msg));
    },
  });
  let round = 0;

  return {
    /**
     * Publishes in order and resolves with how many leading publications the stream stored (acked)
     * before the first failure or the timeout, and why the rest were not.
     */
    async publishAll(
      pubs: Publication[],
      timeoutMs: number,
    ): Promise<{ acked: number; failure: string | null }> {
      const r = ++round;
      const failures: (string | null | undefined)[] = new Array(pubs.length);
      await new Promise<void>((resolve) => {
        let left = pubs.length;
        const timer = setTimeout(resolve, timeoutMs);
        pubs.forEach((p, i) => {
          const reply = `${inbox}.${r}.${i}`;
          waiting.set(reply, (failure) => {
            failures[i] = failure;
            if (--left === 0) {
              clearTimeout(timer);
              resolve();
            }
          });
          const h = headers();
          h.set('Nats-Msg-Id', p.msgId);
          nc.publish(p.subject, p.data, { reply, headers: h });
        });
      });
      for (let i = 0; i < pubs.length; i++) waiting.delete(`${inbox}.${r}.${i}`);
      let acked = 0;
      while (acked < pubs.length && failures[acked] === null) acked++;
      const failure = acked < pubs.length ? (failures[acked] ?? `no ack within ${timeoutMs} ms`) : null;
      return { acked, failure };
    },
    close: () => sub.unsubscribe(),
  };
}

/** null for a stored (or deduplicated) message, else why it was not stored. */
function ackFailure(msg: Msg): string | null {
  if (msg.headers?.hasError) return `JetStream answered ${msg.headers.code} ${msg.headers.description}`;
  try {
    const ack = msg.json<{ stream?: string; seq?: number; error?: { description?: string } }>();
    if (ack.error) return `JetStream refused: ${ack.error.description ?? 'unknown error'}`;
    return ack.stream ? null : 'invalid ack';
  } catch {
    return 'invalid ack';
  }
}
