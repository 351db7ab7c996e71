import { z } from 'zod';
import { Id } from './ids.js';

/** Payloads of the events that travel on room subjects, as named by the product spec. */

export const GiftCategory = z.enum(['basic', 'premium', 'ultra']);
export const GiftRarity = z.enum(['common', 'rare', 'epic', 'legendary']);
export const ContextType = z.enum(['user', 'club', 'game']);
const Timestamp = z.iso.datetime({ offset: true });

export const GiftEventData = z.object({
  giftTransactionId: z.string(),
  gift: z.object({
    id: Id,
    name: z.string(),
    icon: z.string(),
    animationUrl: z.string(),
    audioUrl: z.string(),
    category: GiftCategory,
    rarity: GiftRarity,
  }),
  sender: z.object({
    userId: Id,
    username: z.string(),
    avatar: z.string(),
    tier: z.string(),
    level: z.number().int(),
  }),
  recipient: z.object({ userId: Id, username: z.string(), avatar: z.string() }).optional(),
  context: z.object({ type: ContextType, id: Id, name: z.string().optional() }),
  quantity: z.number().int().positive(),
  totalValue: z.number().int().positive(),
  message: z.string().optional(),
  timestamp: Timestamp,
  animation: z.object({ duration: z.number().int().nonnegative(), url: z.string(), audioUrl: z.string() }),
});
export type GiftEventData = z.infer<typeof GiftEventData>;

export const GlobalGiftData = z.object({
  giftTransactionId: z.string(),
  gift: z.object({ id: Id, name: z.string(), icon: z.string() }),
  sender: z.object({ userId: Id, username: z.string(), tier: z.string() }),
  context: z.object({ type: ContextType, id: Id, name: z.string() }),
  totalValue: z.number().int().positive(),
  timestamp: Timestamp,
});
export type GlobalGiftData = z.infer<typeof GlobalGiftData>;

export const ThresholdData = z.object({
  clubId: Id,
  previousValue: z.number().int().nonnegative(),
  currentValue: z.number().int().nonnegative(),
  targetValue: z.number().int().positive(),
  /** Percent of targetValue reached, 0..100. */
  progress: z.number().min(0).max(100),
  levelName: z.string(),
  completed: z.boolean(),
});
export type ThresholdData = z.infer<typeof ThresholdData>;

export const TopContributor = z.object({
  userId: Id,
  username: z.string(),
  contribution: z.number().int().nonnegative(),
  rank: z.number().int().positive(),
});

export const EventProgressData = z.object({
  eventId: z.string(),
  clubId: Id,
  eventName: z.string(),
  totalContributed: z.number().int().nonnegative(),
  goalTarget: z.number().int().positive(),
  progress: z.number().min(0).max(100),
  endsAt: Timestamp,
  timestamp: Timestamp,
});
export type EventProgressData = z.infer<typeof EventProgressData>;

export const EventGoalReachedData = z.object({
  eventId: z.string(),
  clubId: Id,
  eventName: z.string(),
  goalReached: z.boolean(),
  totalContributed: z.number().int().nonnegative(),
  goalTarget: z.number().int().positive(),
  rewards: z.object({
    clubExperience: z.number().int().nonnegative(),
    memberCrownsBonus: z.number().int().nonnegative(),
  }),
  topContributors: z.array(TopContributor),
  timestamp: Timestamp,
});
export type EventGoalReachedData = z.infer<typeof EventGoalReachedData>;

export const BalanceReason = z.enum(['gift_sent', 'gift_received', 'grant', 'event_reward']);
export const WalletBalanceData = z.object({
  userId: Id,
  balance: z.number().int().nonnegative(),
  previousBalance: z.number().int().nonnegative(),
  delta: z.number().int(),
  reason: BalanceReason,
  transactionId: z.string(),
  timestamp: Timestamp,
});
export type WalletBalanceData = z.infer<typeof WalletBalanceData>;

export const NotificationData = z.object({
  id: z.string(),
  userId: Id,
  type: z.string(),
  title: z.string(),
  message: z.string(),
  data: z.record(z.string(), z.unknown()),
  createdAt: Timestamp,
  readAt: Timestamp.nullable(),
});
export type NotificationData = z.infer<typeof NotificationData>;

export const MemberPresenceData = z.object({
  clubId: Id,
  userId: Id,
  username: z.string().optional(),
  timestamp: Timestamp,
});
export type MemberPresenceData = z.infer<typeof MemberPresenceData>;

/** Free-form events that internal services (a game server, an ops tool) push into rooms. */
export const GameEventData = z.record(z.string(), z.unknown());
export const ClubMessageData = z.object({ userId: Id, text: z.string().max(2000) }).catchall(z.unknown());
export const SystemNoticeData = z.object({
  message: z.string().max(2000),
  level: z.enum(['info', 'warning']).default('info'),
});
