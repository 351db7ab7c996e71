import { z } from 'zod';
import {
  ClubMessageData,
  EventGoalReachedData,
  EventProgressData,
  GameEventData,
  GiftEventData,
  GlobalGiftData,
  MemberPresenceData,
  NotificationData,
  SystemNoticeData,
  ThresholdData,
  WalletBalanceData,
} from './events.js';
import { PresenceStatusData } from './presence-api.js';

const base = {
  /** Unique event id; JetStream drops a re-publish with the same id (Nats-Msg-Id). */
  id: z.string().min(1).max(128),
  ts: z.iso.datetime({ offset: true }),
};

function envelope<T extends string, D extends z.ZodType>(type: T, data: D) {
  return z.object({ type: z.literal(type), ...base, data });
}

/**
 * The one JSON envelope published on room subjects (`room.club.<id>` …). Any service may publish a
 * valid envelope and every member socket of that room receives it.
 */
export const RoomEvent = z.discriminatedUnion('type', [
  envelope('gift:received', GiftEventData),
  envelope('gift:global:announcement', GlobalGiftData),
  envelope('club:threshold:updated', ThresholdData),
  envelope('club:event:progress', EventProgressData),
  envelope('club:event:goal:reached', EventGoalReachedData),
  envelope('wallet:balance_updated', WalletBalanceData),
  envelope('notification:new', NotificationData),
  envelope('club:member:connected', MemberPresenceData),
  envelope('club:member:disconnected', MemberPresenceData),
  envelope('presence:status', PresenceStatusData),
  envelope('club:message', ClubMessageData),
  envelope('game:move', GameEventData),
  envelope('game:state:update', GameEventData),
  envelope('system:notice', SystemNoticeData),
]);
export type RoomEvent = z.infer<typeof RoomEvent>;
export type RoomEventType = RoomEvent['type'];
export type RoomEventOf<T extends RoomEventType> = Extract<RoomEvent, { type: T }>;
export type RoomEventData<T extends RoomEventType> = RoomEventOf<T>['data'];

export const ROOM_EVENT_TYPES = RoomEvent.options.map((o) => o.shape.type.value) as RoomEventType[];
