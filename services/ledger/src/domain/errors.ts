import { ServiceError } from '@crowncast/service';

/** A refusal the client can act on: HTTP status plus a LEDGER_ machine-readable code. */
export class LedgerError extends ServiceError {
  declare readonly code: `LEDGER_${string}`;
  constructor(statusCode: number, code: `LEDGER_${string}`, message: string, details?: unknown) {
    super(statusCode, code, message, details);
    this.name = 'LedgerError';
  }
}

export const errors = {
  insufficientCrowns: (need: number, have: number) =>
    new LedgerError(
      422,
      'LEDGER_INSUFFICIENT_CROWNS',
      `this gift costs ${need} crowns and the wallet holds ${have}`,
      { need, have },
    ),
  giftNotFound: (id: string) => new LedgerError(404, 'LEDGER_GIFT_NOT_FOUND', `no gift ${id} in the catalog`),
  recipientNotFound: (kind: string, id: string) =>
    new LedgerError(404, 'LEDGER_RECIPIENT_NOT_FOUND', `no ${kind} ${id}`),
  notAMember: (clubId: string) =>
    new LedgerError(403, 'LEDGER_NOT_A_MEMBER', `you are not a member of club ${clubId}`),
  notAPlayer: (gameId: string, userId: string) =>
    new LedgerError(403, 'LEDGER_NOT_A_PLAYER', `${userId} is not a player of game ${gameId}`),
  selfGift: () => new LedgerError(422, 'LEDGER_SELF_GIFT', 'you cannot send a gift to yourself'),
  invalidQuantity: (max: number) =>
    new LedgerError(400, 'LEDGER_INVALID_QUANTITY', `quantity must be a whole number from 1 to ${max}`),
  messageTooLong: (max: number) =>
    new LedgerError(400, 'LEDGER_MESSAGE_TOO_LONG', `a gift message holds at most ${max} characters`),
  rateLimited: (retryAfterSec: number) =>
    new LedgerError(429, 'LEDGER_RATE_LIMITED', 'too many gifts: try again shortly', { retryAfterSec }),
  spam: (retryAfterSec: number) =>
    new LedgerError(429, 'LEDGER_SPAM_DETECTED', 'the same gift too many times in a minute', {
      retryAfterSec,
    }),
  idempotencyMismatch: () =>
    new LedgerError(
      409,
      'LEDGER_IDEMPOTENCY_KEY_REUSED',
      'this Idempotency-Key was used with a different request',
    ),
  userNotFound: (id: string) => new LedgerError(404, 'LEDGER_USER_NOT_FOUND', `no user ${id}`),
  clubNotFound: (id: string) => new LedgerError(404, 'LEDGER_CLUB_NOT_FOUND', `no club ${id}`),
  gameNotFound: (id: string) => new LedgerError(404, 'LEDGER_GAME_NOT_FOUND', `no game ${id}`),
  badCursor: () => new LedgerError(400, 'LEDGER_INVALID_CURSOR', 'the cursor is not one this API issued'),
  badEventWindow: () => new LedgerError(400, 'LEDGER_INVALID_EVENT_WINDOW', 'endsAt must be after startsAt'),
};
