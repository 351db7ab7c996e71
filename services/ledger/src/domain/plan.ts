import type { Room, RoomEvent, RoomEventType, SendGiftResult, WalletBalanceData } from '@crowncast/protocol';
import type { LedgerError } from './errors.js';
import type { CatalogGift, UserProfile } from './gift-rules.js';
import type { ThresholdLevel } from './threshold.js';

/**
 * A batch's state, as read under its accounts' row locks, and its plan: every row to write and every
 * event to publish. The moves below are the only writes into a plan's balances and outbox.
 */

export interface ClubInfo {
  id: string;
  name: string;
  thresholdValue: number;
  experience: number;
  levels: ThresholdLevel[];
}

export interface LiveEvent {
  id: string;
  clubId: string;
  name: string;
  goal: number;
  endsAt: Date;
  totalContributed: number;
  goalReached: boolean;
  rewardClubExperience: number;
  rewardMemberCrowns: number;
  /** The event's top contributors plus everyone sending in this batch (enough to rank the top 5). */
  contributions: Map<string, number>;
}

export interface BatchState {
  gifts: Map<string, CatalogGift>;
  users: Map<string, UserProfile>;
  clubs: Map<string, ClubInfo>;
  games: Map<string, { id: string; name: string }>;
  /** `${clubId}/${userId}` */
  clubMembers: Set<string>;
  /** `${gameId}/${userId}` */
  gamePlayers: Set<string>;
  /** Balances of every account locked for this batch. */
  balances: Map<string, number>;
  /** Live events (started, not ended) per club. */
  events: Map<string, LiveEvent[]>;
  /** Members of clubs whose event goal this batch may cross (their wallets are locked too). */
  membersOf: Map<string, string[]>;
}

export interface EntryRow {
  transactionId: string;
  kind: 'gift' | 'event_reward';
  debitAccount: string;
  creditAccount: string;
  amount: number;
  debitBefore: number;
  debitAfter: number;
  creditBefore: number;
  creditAfter: number;
}

export interface GiftTxRow {
  id: string;
  giftId: string;
  quantity: number;
  totalValue: number;
  senderUserId: string;
  recipientUserId: string | null;
  recipientClubId: string | null;
  recipientGameId: string | null;
  message: string | null;
  contextType: 'user_to_user' | 'club' | 'game';
  contextId: string;
  websocketRoomId: string;
  isGlobalAnnouncement: boolean;
  sentAt: Date;
}

export interface NotificationRow {
  id: string;
  userId: string;
  type: string;
  title: string;
  message: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

export interface OutboxRow {
  eventId: string;
  room: Room;
  type: RoomEventType;
  envelope: RoomEvent;
}

export type PlanResult = { ok: true; response: SendGiftResult } | { ok: false; error: LedgerError };

export interface Plan {
  results: PlanResult[];
  entries: EntryRow[];
  giftTransactions: GiftTxRow[];
  notifications: NotificationRow[];
  outbox: OutboxRow[];
  /** Accounts whose balance changed, with the new balance. */
  balances: Map<string, number>;
  clubs: Map<string, { thresholdValue: number; experience: number }>;
  events: Map<string, { totalContributed: number; goalReached: boolean }>;
  /** Contribution added per event and user. */
  contributions: Map<string, Map<string, number>>;
  /** Clubs whose goal was crossed but whose members were not loaded: rerun with them. */
  needsMembers: Set<string>;
}

export type Emit = <T extends RoomEventType>(
  room: Room,
  type: T,
  data: Extract<RoomEvent, { type: T }>['data'],
) => void;

export function eventEmitter(plan: Plan, txId: string, ts: string): Emit {
  let n = 0;
  return (room, type, data) => {
    const eventId = `${txId}.${n++}`;
    plan.outbox.push({ eventId, room, type, envelope: { type, id: eventId, ts, data } as RoomEvent });
  };
}

export function transfer(
  state: BatchState,
  plan: Plan,
  transactionId: string,
  kind: EntryRow['kind'],
  from: string,
  to: string,
  amount: number,
): EntryRow {
  const debitBefore = state.balances.get(from) ?? 0;
  const creditBefore = state.balances.get(to) ?? 0;
  const entry: EntryRow = {
    transactionId,
    kind,
    debitAccount: from,
    creditAccount: to,
    amount,
    debitBefore,
    debitAfter: debitBefore - amount,
    creditBefore,
    creditAfter: creditBefore + amount,
  };
  state.balances.set(from, entry.debitAfter);
  state.balances.set(to, entry.creditAfter);
  plan.balances.set(from, entry.debitAfter);
  plan.balances.set(to, entry.creditAfter);
  plan.entries.push(entry);
  return entry;
}

export function walletEvent(
  userId: string,
  before: number,
  after: number,
  reason: WalletBalanceData['reason'],
  transactionId: string,
  timestamp: string,
): WalletBalanceData {
  return {
    userId,
    balance: after,
    previousBalance: before,
    delta: after - before,
    reason,
    transactionId,
    timestamp,
  };
}
