import { randomUUID } from 'node:crypto';
import { tokenFor } from '@crowncast/testkit';
import { request } from 'undici';
import type { World } from './admin.js';

/** One gift the load asked for, by its Idempotency-Key. */
export interface SentGift {
  key: string;
  club: string;
  /** 200: the ledger said it committed (giftTransactionId); 'refused': a 4xx that is final. */
  outcome: 'pending' | 'committed' | 'refused' | 'abandoned';
  txId?: string;
  attempts: number;
}

/** Answers that say "try again with the same key" (documented), or no answer at all. */
function retryable(status: number, code: string | undefined): boolean {
  return (
    status === 0 ||
    status >= 500 ||
    status === 429 ||
    (status === 409 && code === 'LEDGER_IDEMPOTENCY_IN_PROGRESS')
  );
}

/**
 * Club gifts through the ledger's REST API at a steady rate, each with its own Idempotency-Key and
 * retried with the same key (bounded by `giveUpMs`) on a dropped connection, 5xx, 429 or
 * IN_PROGRESS, the way a careful client does. The ledger URL is read per attempt, so a restarted
 * ledger on a new port is found.
 */
export class Gifter {
  readonly gifts: SentGift[] = [];
  readonly statuses: Record<string, number> = {};
  private timer: NodeJS.Timeout | null = null;
  private readonly inflight = new Set<Promise<void>>();
  private tokens = new Map<string, string>();

  constructor(
    private readonly world: World,
    private readonly ledgerUrl: () => string,
    private readonly o: { ratePerSec: number; maxInflight?: number; giveUpMs?: number } = { ratePerSec: 20 },
  ) {}

  async prepare(): Promise<void> {
    for (const ms of this.world.members) {
      for (const u of ms) this.tokens.set(u, await tokenFor(u, { expiresInSec: 6 * 3600 }));
    }
  }

  /** Starts sending; call stop() to end and wait for every gift's final answer. */
  start(): void {
    const t0 = performance.now();
    let due = 0;
    this.timer = setInterval(() => {
      const want = Math.floor(((performance.now() - t0) / 1000) * this.o.ratePerSec);
      while (due < want && this.inflight.size < (this.o.maxInflight ?? 500)) {
        due++;
        const p = this.one().finally(() => this.inflight.delete(p));
        this.inflight.add(p);
      }
      due = Math.max(due, want - this.o.ratePerSec); // never build a backlog of more than 1 s
    }, 10);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }

  inflightCount(): number {
    return this.inflight.size;
  }

  count(outcome: SentGift['outcome']): number {
    return this.gifts.filter((g) => g.outcome === outcome).length;
  }

  private async one(): Promise<void> {
    const c = Math.floor(Math.random() * this.world.clubs.length);
    const members = this.world.members[c] as string[];
    const sender = members[Math.floor(Math.random() * members.length)] as string;
    const g: SentGift = {
      key: randomUUID(),
      club: this.world.clubs[c] as string,
      outcome: 'pending',
      attempts: 0,
    };
    this.gifts.push(g);
    const deadline = Date.now() + (this.o.giveUpMs ?? 60_000);
    const body = JSON.stringify({ giftId: this.world.giftId, quantity: 1 });
    while (Date.now() < deadline) {
      g.attempts++;
      const { status, code, txId } = await this.post(g, sender, body);
      this.statuses[status] = (this.statuses[status] ?? 0) + 1;
      if (status === 200) {
        g.outcome = 'committed';
        g.txId = txId;
        return;
      }
      if (!retryable(status, code)) {
        g.outcome = 'refused';
        return;
      }
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
    }
    g.outcome = 'abandoned';
  }

  private async post(g: SentGift, sender: string, body: string) {
    try {
      const res = await request(`${this.ledgerUrl()}/clubs/${g.club}/gifts/send`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.tokens.get(sender)}`,
          'content-type': 'application/json',
          'idempotency-key': g.key,
        },
        body,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      const json = (await res.body.json().catch(() => ({}))) as {
        data?: { giftTransactionId?: string };
        error?: { code?: string };
      };
      return { status: res.statusCode, code: json.error?.code, txId: json.data?.giftTransactionId };
    } catch {
      return { status: 0, code: undefined, txId: undefined };
    }
  }
}
