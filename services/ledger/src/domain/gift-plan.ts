import type { GiftEventData, Room } from '@crowncast/protocol';
import { clubAccount, gameAccount, userAccount } from './accounts.js';
import { applyClubProgress } from './club-progress.js';
import {
  type CatalogGift,
  checkAgainstState,
  type GiftLimits,
  type GiftRequest,
  type RuleView,
  type UserProfile,
} from './gift-rules.js';
import { newId } from './ids.js';
import {
  type BatchState,
  type ClubInfo,
  eventEmitter,
  type NotificationRow,
  type Plan,
  transfer,
  walletEvent,
} from './plan.js';

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

/**
 * Applies a batch of gift requests, in order, to state read under the accounts' row locks. Pure:
 * it returns every row to write and every event to publish, and the store writes them in one
 * transaction. A refused request changes nothing.
 */
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
