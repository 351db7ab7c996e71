import { z } from 'zod';
import { GiftCategory, GiftRarity, TopContributor } from './events.js';
import { Id } from './ids.js';

/** Bodies and responses of the ledger's REST API. Routes, tests and the SDK all use these. */

export const ErrorBody = z.object({
  success: z.literal(false),
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export function ok<T extends z.ZodType>(data: T) {
  return z.object({ success: z.literal(true), data });
}

const Timestamp = z.iso.datetime({ offset: true });

/**
 * quantity and message are bounded loosely here and precisely by the gift rules
 * (LEDGER_INVALID_QUANTITY, LEDGER_MESSAGE_TOO_LONG), so each rule answers with its own code.
 */
const giftFields = {
  giftId: z.string().min(1).max(64),
  quantity: z.number().int().min(-1_000_000).max(1_000_000).default(1),
  message: z.string().max(10_000).optional(),
};

export const SendGiftBody = z.object({
  ...giftFields,
  recipientType: z.enum(['user', 'club', 'game']),
  recipientId: z.string().min(1).max(64),
});
export type SendGiftBody = z.input<typeof SendGiftBody>;

export const SendClubGiftBody = z.object(giftFields);
export const SendGameGiftBody = z.object({
  ...giftFields,
  /** A player of the game who receives the crowns; without one they go to the game's pot. */
  recipientUserId: z.string().min(1).max(64).optional(),
});

export const SendGiftResult = z.object({
  giftTransactionId: z.string(),
  giftId: Id,
  totalCost: z.number().int(),
  remainingCrowns: z.number().int(),
  sentAt: Timestamp,
  websocketBroadcast: z.boolean(),
});
export type SendGiftResult = z.infer<typeof SendGiftResult>;

export const Gift = z.object({
  id: Id,
  name: z.string(),
  icon: z.string(),
  category: GiftCategory,
  rarity: GiftRarity,
  price: z.number().int().positive(),
  animationUrl: z.string(),
  audioUrl: z.string(),
  animationDurationMs: z.number().int(),
});
export type Gift = z.infer<typeof Gift>;

export const GiftHistoryQuery = z.object({
  direction: z.enum(['sent', 'received', 'all']).default('all'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export const GiftTransaction = z.object({
  id: z.string(),
  giftId: Id,
  giftName: z.string(),
  quantity: z.number().int(),
  totalValue: z.number().int(),
  senderUserId: Id,
  senderUsername: z.string(),
  recipientUserId: Id.nullable(),
  recipientClubId: Id.nullable(),
  contextType: z.enum(['user_to_user', 'club', 'game']),
  contextId: Id,
  message: z.string().nullable(),
  sentAt: Timestamp,
});
export type GiftTransaction = z.infer<typeof GiftTransaction>;

export const Page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const RecentGiftsQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) });

export const Wallet = z.object({ userId: Id, balance: z.number().int(), updatedAt: Timestamp });

export const ThresholdLevel = z.object({
  name: z.string().min(1).max(40),
  target: z.number().int().positive(),
});
export const ClubThreshold = z.object({
  clubId: Id,
  currentValue: z.number().int(),
  levelName: z.string().nullable(),
  targetValue: z.number().int().nullable(),
  progress: z.number(),
  completed: z.boolean(),
  levels: z.array(ThresholdLevel.extend({ reached: z.boolean() })),
});

export const ClubEvent = z.object({
  id: z.string(),
  clubId: Id,
  name: z.string(),
  goal: z.number().int(),
  totalContributed: z.number().int(),
  progress: z.number(),
  startsAt: Timestamp,
  endsAt: Timestamp,
  goalReachedAt: Timestamp.nullable(),
  rewards: z.object({ clubExperience: z.number().int(), memberCrownsBonus: z.number().int() }),
  topContributors: z.array(TopContributor),
});

export const Notification = z.object({
  id: z.string(),
  type: z.string(),
  title: z.string(),
  message: z.string(),
  data: z.record(z.string(), z.unknown()),
  createdAt: Timestamp,
  readAt: Timestamp.nullable(),
});
export const NotificationsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
export const MarkReadBody = z.union([
  z.object({ ids: z.array(z.string().max(64)).min(1).max(500) }),
  z.object({ all: z.literal(true) }),
]);

// ---- admin / internal API (separate credential) ----

export const UpsertUserBody = z.object({
  username: z.string().min(1).max(64),
  avatar: z.string().max(500).default(''),
  tier: z.string().max(32).default('bronze'),
  level: z.number().int().min(0).max(10_000).default(1),
});
export const GrantBody = z.object({
  amount: z.number().int().positive().max(1_000_000_000),
  reason: z.string().max(200).default('purchase'),
});
export const GrantResult = z.object({ grantId: z.string(), userId: Id, balance: z.number().int() });
export const UpsertClubBody = z.object({
  name: z.string().min(1).max(100),
  avatar: z.string().max(500).default(''),
});
export const UpsertGameBody = z.object({ name: z.string().min(1).max(100) });
export const ThresholdLevelsBody = z.object({ levels: z.array(ThresholdLevel).min(1).max(20) });
export const CreateClubEventBody = z.object({
  name: z.string().min(1).max(100),
  goal: z.number().int().positive().max(1_000_000_000),
  startsAt: Timestamp,
  endsAt: Timestamp,
  rewardClubExperience: z.number().int().min(0).max(1_000_000).default(0),
  rewardMemberCrowns: z.number().int().min(0).max(1_000_000).default(0),
});
export const UpsertGiftBody = Gift.omit({ id: true });
export const LedgerAudit = z.object({
  /** Sum of every account including the issuer: always 0. */
  totalSum: z.number().int(),
  /** Crowns held by users, clubs and games. */
  circulating: z.number().int(),
  /** Crowns ever issued (grants and rewards). */
  issued: z.number().int(),
  negativeBalances: z.number().int(),
});
