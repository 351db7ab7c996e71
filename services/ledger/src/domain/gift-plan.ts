import type {
  EventGoalReachedData,
  GiftEventData,
  Room,
  RoomEvent,
  RoomEventType,
  SendGiftResult,
  WalletBalanceData,
} from '@crowncast/protocol';
import { clubAccount, gameAccount, ISSUER, userAccount } from './accounts.js';
import type { LedgerError } from './errors.js';
import {
  type CatalogGift,
  checkAgainstState,
  type GiftLimits,
  type GiftRequest,
  type RuleView,
  type UserProfile,
} from './gift-rules.js';
import { newId } from './ids.js';
import { type ThresholdLevel, thresholdAfter } from './threshold.js';

/**
 * Applies a batch of gift requests, in order, to state read under the accounts' row locks. Pure:
 * it returns every row to write and every event to publish, and the store writes them in one
 * transaction. A refused request changes nothing.
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

export function senderAccountOf(req: GiftRequest): string {
  return userAccount(req.senderId);
}

/** The account credited by a gift. */
export function recipientAccountOf(req: GiftRequest): string {
  const t = req.target;
  if (t.type === 'user') return userAccount(t.userId);
  if (t.type === 'club') return clubAccount(t.clubId);
  return t.playerId ? userAccount(t.playerId) : gameAccount(t.gameId);
}

/**
 * Every account a gift locks. The room's own account (club treasury, game pot) is always among
 * them: it is what serialises a room's events in commit order.
 */
export function accountsOf(req: GiftRequest): string[] {
  const t = req.target;
  const ids = [senderAccountOf(req), recipientAccountOf(req)];
  if (t.type === 'game') ids.push(gameAccount(t.gameId));
  return ids;
}

export function planBatch(state: BatchState, requests: GiftRequest[], limits: GiftLimits, now: Date): Plan {
  const plan: Plan = {
    results: [],
    entries: [],
    giftTransactions: [],
    notifications: [],
    outbox: [],
    balances: new Map(),
    clubs: new Map(),
    events: new Map(),
    contributions: new Map(),
    needsMembers: new Set(),
  };
  const view: RuleView = {
    gift: (id) => state.gifts.get(id),
    user: (id) => state.users.get(id),
    clubExists: (id) => state.clubs.has(id),
    gameExists: (id) => state.games.has(id),
    isClubMember: (c, u) => state.clubMembers.has(`${c}/${u}`),
    isGamePlayer: (g, u) => state.gamePlayers.has(`${g}/${u}`),
    balance: (a) => state.balances.get(a) ?? 0,
  };
  const ts = now.toISOString();

  for (const req of requests) {
    const refused = checkAgainstState(req, view, senderAccountOf(req));
    if (refused) {
      plan.results.push({ ok: false, error: refused });
      continue;
    }
    const gift = state.gifts.get(req.giftId) as CatalogGift;
    const sender = state.users.get(req.senderId) as UserProfile;
    const txId = newId('gtx');
    const total = gift.price * req.quantity;
    const emit = eventEmitter(plan, txId, ts);

    const moved = transfer(state, plan, txId, 'gift', senderAccountOf(req), recipientAccountOf(req), total);
    const t = req.target;
    const recipientUser =
      t.type === 'user'
        ? state.users.get(t.userId)
        : t.type === 'game' && t.playerId
          ? state.users.get(t.playerId)
          : undefined;
    const club = t.type === 'club' ? (state.clubs.get(t.clubId) as ClubInfo) : undefined;
    const game = t.type === 'game' ? state.games.get(t.gameId) : undefined;
    const context =
      t.type === 'user'
        ? { type: 'user' as const, id: t.userId, name: recipientUser?.username }
        : t.type === 'club'
          ? { type: 'club' as const, id: t.clubId, name: club?.name }
          : { type: 'game' as const, id: t.gameId, name: game?.name };
    const rooms: Room[] =
      t.type === 'user'
        ? [`user:${req.senderId}`, `user:${t.userId}`]
        : t.type === 'club'
          ? [`club:${t.clubId}`]
          : [`game:${t.gameId}`];
    const isGlobal = total >= limits.legendaryThreshold;

    plan.giftTransactions.push({
      id: txId,
      giftId: gift.id,
      quantity: req.quantity,
      totalValue: total,
      senderUserId: req.senderId,
      recipientUserId: recipientUser?.id ?? null,
      recipientClubId: club?.id ?? null,
      recipientGameId: t.type === 'game' && !t.playerId ? t.gameId : null,
      message: req.message ?? null,
      contextType: t.type === 'user' ? 'user_to_user' : t.type,
      contextId: context.id,
      websocketRoomId: rooms[rooms.length - 1] as string,
      isGlobalAnnouncement: isGlobal,
      sentAt: now,
    });

    const giftEvent: GiftEventData = {
      giftTransactionId: txId,
      gift: {
        id: gift.id,
        name: gift.name,
        icon: gift.icon,
        animationUrl: gift.animationUrl,
        audioUrl: gift.audioUrl,
        category: gift.category,
        rarity: gift.rarity,
      },
      sender: {
        userId: sender.id,
        username: sender.username,
        avatar: sender.avatar,
        tier: sender.tier,
        level: sender.level,
      },
      ...(recipientUser
        ? {
            recipient: {
              userId: recipientUser.id,
              username: recipientUser.username,
              avatar: recipientUser.avatar,
            },
          }
        : {}),
      context: context.name === undefined ? { type: context.type, id: context.id } : context,
      quantity: req.quantity,
      totalValue: total,
      ...(req.message !== undefined ? { message: req.message } : {}),
      timestamp: ts,
      animation: { duration: gift.animationDurationMs, url: gift.animationUrl, audioUrl: gift.audioUrl },
    };
    for (const r of rooms) emit(r, 'gift:received', giftEvent);

    emit(
      `user:${sender.id}`,
      'wallet:balance_updated',
      walletEvent(sender.id, moved.debitBefore, moved.debitAfter, 'gift_sent', txId, ts),
    );
    if (recipientUser) {
      emit(
        `user:${recipientUser.id}`,
        'wallet:balance_updated',
        walletEvent(recipientUser.id, moved.creditBefore, moved.creditAfter, 'gift_received', txId, ts),
      );
      const note: NotificationRow = {
        id: newId('ntf'),
        userId: recipientUser.id,
        type: 'gift',
        title: 'Gift received!',
        message: `${sender.username} sent you ${req.quantity > 1 ? `${req.quantity}× ` : ''}${gift.name}`,
        data: { giftTransactionId: txId, giftId: gift.id, senderUserId: sender.id, quantity: req.quantity },
        createdAt: now,
      };
      plan.notifications.push(note);
      emit(`user:${recipientUser.id}`, 'notification:new', {
        id: note.id,
        userId: note.userId,
        type: note.type,
        title: note.title,
        message: note.message,
        data: note.data,
        createdAt: ts,
        readAt: null,
      });
    }
    // After the wallet events: an event reward credited here is the sender's latest balance.
    if (club) applyClubProgress(state, plan, emit, club, req.senderId, total, now);
    if (isGlobal) {
      emit('global', 'gift:global:announcement', {
        giftTransactionId: txId,
        gift: { id: gift.id, name: gift.name, icon: gift.icon },
        sender: { userId: sender.id, username: sender.username, tier: sender.tier },
        context: { type: context.type, id: context.id, name: context.name ?? context.id },
        totalValue: total,
        timestamp: ts,
      });
    }

    plan.results.push({
      ok: true,
      response: {
        giftTransactionId: txId,
        giftId: gift.id,
        totalCost: total,
        remainingCrowns: state.balances.get(senderAccountOf(req)) ?? moved.debitAfter,
        sentAt: ts,
        websocketBroadcast: true,
      },
    });
  }
  return plan;
}

type Emit = <T extends RoomEventType>(
  room: Room,
  type: T,
  data: Extract<RoomEvent, { type: T }>['data'],
) => void;

function eventEmitter(plan: Plan, txId: string, ts: string): Emit {
  let n = 0;
  return (room, type, data) => {
    const eventId = `${txId}.${n++}`;
    plan.outbox.push({ eventId, room, type, envelope: { type, id: eventId, ts, data } as RoomEvent });
  };
}

function transfer(
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

function walletEvent(
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

/** Threshold bar and live event goals move with every club gift. */
function applyClubProgress(
  state: BatchState,
  plan: Plan,
  emit: Emit,
  club: ClubInfo,
  senderId: string,
  total: number,
  now: Date,
) {
  const room: Room = `club:${club.id}`;
  const threshold = thresholdAfter(club.id, club.levels, club.thresholdValue, total);
  club.thresholdValue += total;
  plan.clubs.set(club.id, { thresholdValue: club.thresholdValue, experience: club.experience });
  if (threshold) emit(room, 'club:threshold:updated', threshold);

  for (const ev of state.events.get(club.id) ?? []) {
    if (ev.endsAt <= now) continue;
    ev.totalContributed += total;
    ev.contributions.set(senderId, (ev.contributions.get(senderId) ?? 0) + total);
    const added = plan.contributions.get(ev.id) ?? new Map<string, number>();
    added.set(senderId, (added.get(senderId) ?? 0) + total);
    plan.contributions.set(ev.id, added);
    const ts = now.toISOString();
    emit(room, 'club:event:progress', {
      eventId: ev.id,
      clubId: club.id,
      eventName: ev.name,
      totalContributed: ev.totalContributed,
      goalTarget: ev.goal,
      progress: Math.min(100, Math.round((ev.totalContributed / ev.goal) * 10_000) / 100),
      endsAt: ev.endsAt.toISOString(),
      timestamp: ts,
    });
    if (!ev.goalReached && ev.totalContributed >= ev.goal) {
      const members = state.membersOf.get(club.id);
      if (!members) {
        plan.needsMembers.add(club.id);
      } else {
        ev.goalReached = true;
        rewardMembers(state, plan, emit, club, ev, members, ts);
      }
    }
    plan.events.set(ev.id, { totalContributed: ev.totalContributed, goalReached: ev.goalReached });
  }
}

/** Credits every member the event's crown bonus from the issuer, and the club its experience. */
function rewardMembers(
  state: BatchState,
  plan: Plan,
  emit: Emit,
  club: ClubInfo,
  ev: LiveEvent,
  members: string[],
  ts: string,
) {
  const rewardId = `rwd_${ev.id}`;
  club.experience += ev.rewardClubExperience;
  plan.clubs.set(club.id, { thresholdValue: club.thresholdValue, experience: club.experience });
  const top = [...ev.contributions.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 5)
    .map(([userId, contribution], i) => ({
      userId,
      username: state.users.get(userId)?.username ?? userId,
      contribution,
      rank: i + 1,
    }));
  const reached: EventGoalReachedData = {
    eventId: ev.id,
    clubId: club.id,
    eventName: ev.name,
    goalReached: true,
    totalContributed: ev.totalContributed,
    goalTarget: ev.goal,
    rewards: { clubExperience: ev.rewardClubExperience, memberCrownsBonus: ev.rewardMemberCrowns },
    topContributors: top,
    timestamp: ts,
  };
  emit(`club:${club.id}`, 'club:event:goal:reached', reached);
  if (ev.rewardMemberCrowns <= 0) return;
  for (const memberId of members) {
    const e = transfer(
      state,
      plan,
      rewardId,
      'event_reward',
      ISSUER,
      userAccount(memberId),
      ev.rewardMemberCrowns,
    );
    emit(`user:${memberId}`, 'wallet:balance_updated', {
      ...walletEvent(memberId, e.creditBefore, e.creditAfter, 'event_reward', rewardId, ts),
    });
  }
}
