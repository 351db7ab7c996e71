import type {
  ClubEvent,
  ClubThreshold,
  Gift,
  GiftTransaction,
  SendGiftResult,
  Wallet,
} from '@crowncast/protocol';
import type { z } from 'zod';
import { CrowncastError } from './errors.js';

export interface LedgerApiOptions {
  /** The ledger's base URL, e.g. `https://api.example.com` (no trailing slash needed). Required. */
  baseUrl: string;
  /** Returns the user's JWT; called for every request. Required. */
  getToken: () => string | Promise<string>;
  /** fetch implementation. Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Attempts of a gift send on network errors, 5xx and `LEDGER_IDEMPOTENCY_IN_PROGRESS`. Default 3. */
  sendAttempts?: number;
  /** Wait between those attempts, ms (doubles each time). Default 300. */
  retryDelayMs?: number;
  /** Abort a request that takes longer, ms. Default 10000. */
  timeoutMs?: number;
}

export interface SendGiftInput {
  giftId: string;
  quantity?: number;
  message?: string;
  /**
   * The request's Idempotency-Key. Default: a new random one per call, reused by every retry of it,
   * so a retried send moves crowns once. Pass your own to make a user's double tap safe too.
   */
  idempotencyKey?: string;
}

export type SendGiftAnswer = z.infer<typeof SendGiftResult> & { idempotencyKey: string };

/** The ledger's user API, typed by packages/protocol. Every error is a CrowncastError with the ledger's code. */
export class LedgerApi {
  private readonly o: Required<LedgerApiOptions>;

  constructor(opts: LedgerApiOptions) {
    const f = opts.fetch ?? globalThis.fetch;
    this.o = {
      sendAttempts: 3,
      retryDelayMs: 300,
      timeoutMs: 10_000,
      ...opts,
      baseUrl: opts.baseUrl.replace(/\/+$/, ''),
      // Unbound fetch throws "Illegal invocation" in browsers.
      fetch: (input, init) => f(input, init),
    };
  }

  /** Sends a gift into a club room. */
  sendClubGift(clubId: string, input: SendGiftInput): Promise<SendGiftAnswer> {
    return this.send(`/clubs/${encodeURIComponent(clubId)}/gifts/send`, input, {});
  }

  /** Sends a gift into a game room, optionally to one player. */
  sendGameGift(gameId: string, input: SendGiftInput & { recipientUserId?: string }): Promise<SendGiftAnswer> {
    const { recipientUserId, ...rest } = input;
    return this.send(`/games/${encodeURIComponent(gameId)}/gifts/send`, rest, { recipientUserId });
  }

  /** Sends a gift to a user, club or game (`POST /gifts/send`). */
  sendGift(
    recipientType: 'user' | 'club' | 'game',
    recipientId: string,
    input: SendGiftInput,
  ): Promise<SendGiftAnswer> {
    return this.send('/gifts/send', input, { recipientType, recipientId });
  }

  wallet(): Promise<z.infer<typeof Wallet>> {
    return this.call('GET', '/wallet');
  }

  catalog(): Promise<Gift[]> {
    return this.call('GET', '/gifts');
  }

  history(q: { direction?: 'sent' | 'received' | 'all'; limit?: number; cursor?: string } = {}): Promise<{
    items: GiftTransaction[];
    nextCursor: string | null;
  }> {
    return this.call('GET', `/gifts/history${query(q)}`);
  }

  /** A club's recent gifts: what to reload after a `resync`. */
  recentClubGifts(clubId: string, limit = 20): Promise<GiftTransaction[]> {
    return this.call('GET', `/clubs/${encodeURIComponent(clubId)}/gifts/recent${query({ limit })}`);
  }

  clubThreshold(clubId: string): Promise<z.infer<typeof ClubThreshold>> {
    return this.call('GET', `/clubs/${encodeURIComponent(clubId)}/threshold`);
  }

  activeClubEvents(clubId: string): Promise<z.infer<typeof ClubEvent>[]> {
    return this.call('GET', `/clubs/${encodeURIComponent(clubId)}/events/active`);
  }

  private async send(
    path: string,
    input: SendGiftInput,
    extra: Record<string, unknown>,
  ): Promise<SendGiftAnswer> {
    const { idempotencyKey = newKey(), ...body } = input;
    let wait = this.o.retryDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.call<z.infer<typeof SendGiftResult>>(
          'POST',
          path,
          { ...body, ...extra },
          idempotencyKey,
        );
        return { ...r, idempotencyKey };
      } catch (err) {
        if (attempt >= this.o.sendAttempts || !retryable(err)) throw err;
        await new Promise((r) => setTimeout(r, wait));
        wait *= 2;
      }
    }
  }

  private async call<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${await this.o.getToken()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    let res: Response;
    try {
      res = await this.o.fetch(`${this.o.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: timeoutSignal(this.o.timeoutMs),
      });
    } catch (err) {
      throw new CrowncastError('NETWORK_ERROR', `${method} ${path}: ${String(err)}`);
    }
    const json = (await res.json().catch(() => null)) as
      | { success: true; data: T }
      | { success: false; error: { code: string; message: string; details?: unknown } }
      | null;
    if (json?.success === true) return json.data;
    const e = json?.success === false ? json.error : { code: 'HTTP_ERROR', message: res.statusText };
    throw new CrowncastError(e.code, e.message, res.status, 'details' in e ? e.details : undefined);
  }
}

/** AbortSignal.timeout where it exists (browsers, Node); older React Native has none: no timeout there. */
function timeoutSignal(ms: number): AbortSignal | null {
  return typeof AbortSignal !== 'undefined' && typeof AbortSignal.timeout === 'function'
    ? AbortSignal.timeout(ms)
    : null;
}

function retryable(err: unknown): boolean {
  if (!(err instanceof CrowncastError)) return false;
  return (
    err.code === 'NETWORK_ERROR' ||
    err.code === 'LEDGER_IDEMPOTENCY_IN_PROGRESS' ||
    (err.status !== undefined && err.status >= 500)
  );
}

function query(q: Record<string, string | number | undefined>): string {
  const parts = Object.entries(q)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** A random key; crypto.randomUUID where there is one (browsers, Node), else Math.random (old RN). */
function newKey(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}
