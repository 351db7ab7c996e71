import { errors, type LedgerError } from './errors.js';

/**
 * The rules for "can this user send this gift", in one place. Stateless rules run before anything
 * else (and before rate limits count the attempt); stateful rules run inside the gift transaction
 * against locked balances.
 */

export type GiftTarget =
  | { type: 'user'; userId: string }
  | { type: 'club'; clubId: string }
  | { type: 'game'; gameId: string; playerId?: string | undefined };

export interface GiftRequest {
  senderId: string;
  giftId: string;
  target: GiftTarget;
  quantity: number;
  message?: string | undefined;
}

export interface GiftLimits {
  maxQuantity: number;
  messageMax: number;
  legendaryThreshold: number;
}

export interface CatalogGift {
  id: string;
  name: string;
  icon: string;
  category: 'basic' | 'premium' | 'ultra';
  rarity: 'common' | 'rare' | 'epic' | 'legendary';
  price: number;
  animationUrl: string;
  audioUrl: string;
  animationDurationMs: number;
  active: boolean;
}

export interface UserProfile {
  id: string;
  username: string;
  avatar: string;
  tier: string;
  level: number;
}

/** Rules that need no data: quantity, message length, no self-gift. */
export function checkShape(req: GiftRequest, limits: GiftLimits): LedgerError | null {
  if (!Number.isInteger(req.quantity) || req.quantity < 1 || req.quantity > limits.maxQuantity) {
    return errors.invalidQuantity(limits.maxQuantity);
  }
  if (req.message !== undefined && [...req.message].length > limits.messageMax) {
    return errors.messageTooLong(limits.messageMax);
  }
  const t = req.target;
  if (
    (t.type === 'user' && t.userId === req.senderId) ||
    (t.type === 'game' && t.playerId === req.senderId)
  ) {
    return errors.selfGift();
  }
  return null;
}

/** What the stateful rules need to see. */
export interface RuleView {
  gift(id: string): CatalogGift | undefined;
  user(id: string): UserProfile | undefined;
  clubExists(id: string): boolean;
  gameExists(id: string): boolean;
  isClubMember(clubId: string, userId: string): boolean;
  isGamePlayer(gameId: string, userId: string): boolean;
  balance(accountId: string): number;
}

/** Rules that need data, checked in this order; the first that fails is the answer. */
export function checkAgainstState(
  req: GiftRequest,
  view: RuleView,
  senderAccount: string,
): LedgerError | null {
  const gift = view.gift(req.giftId);
  if (!gift?.active) return errors.giftNotFound(req.giftId);
  if (!view.user(req.senderId)) return errors.userNotFound(req.senderId);
  const t = req.target;
  if (t.type === 'user') {
    if (!view.user(t.userId)) return errors.recipientNotFound('user', t.userId);
  } else if (t.type === 'club') {
    if (!view.clubExists(t.clubId)) return errors.recipientNotFound('club', t.clubId);
    if (!view.isClubMember(t.clubId, req.senderId)) return errors.notAMember(t.clubId);
  } else {
    if (!view.gameExists(t.gameId)) return errors.recipientNotFound('game', t.gameId);
    if (!view.isGamePlayer(t.gameId, req.senderId)) return errors.notAPlayer(t.gameId, req.senderId);
    if (t.playerId !== undefined) {
      if (!view.user(t.playerId) || !view.isGamePlayer(t.gameId, t.playerId)) {
        return errors.notAPlayer(t.gameId, t.playerId);
      }
    }
  }
  const cost = gift.price * req.quantity;
  const have = view.balance(senderAccount);
  if (have < cost) return errors.insufficientCrowns(cost, have);
  return null;
}
