import { z } from 'zod';
import { Id, Room } from './ids.js';

/**
 * Delivery analytics (the seed's websocket_events and gift_animation_plays): edges report on NATS,
 * batched, and the ledger records them. Losing a report loses a statistic, never a crown or an event.
 */
export const DeliveryReport = z.object({
  edgeId: z.string().min(1).max(64),
  reports: z
    .array(
      z.object({
        eventId: z.string().min(1).max(128),
        type: z.string().min(1).max(64),
        room: Room,
        /** Sockets on this edge the event was written to. */
        sockets: z.number().int().nonnegative(),
        /** When the edge wrote it, epoch ms. */
        writtenAt: z.number().int().nonnegative(),
        /** Event timestamp to write, ms. */
        latencyMs: z.number().nonnegative(),
      }),
    )
    .max(1000),
});
export type DeliveryReport = z.infer<typeof DeliveryReport>;

/** What a client reports after playing a gift animation (client → edge `gift:animation:played`). */
export const AnimationPlayedData = z.object({
  giftTransactionId: z.string().min(1).max(64),
  platform: z.string().max(20).optional(),
  appVersion: z.string().max(20).optional(),
  durationMs: z.number().int().nonnegative().max(600_000).optional(),
  completed: z.boolean(),
  errorMessage: z.string().max(500).optional(),
});
export type AnimationPlayedData = z.infer<typeof AnimationPlayedData>;

export const AnimationPlayedBatch = z.object({
  edgeId: z.string().min(1).max(64),
  plays: z
    .array(AnimationPlayedData.extend({ userId: Id, playedAt: z.number().int().nonnegative() }))
    .max(1000),
});
export type AnimationPlayedBatch = z.infer<typeof AnimationPlayedBatch>;

export const deliveryReportSubject = (prefix = '') => `${prefix}analytics.delivery`;
export const animationPlayedSubject = (prefix = '') => `${prefix}analytics.animation`;
