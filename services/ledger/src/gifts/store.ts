import type { Sql, TransactionSql } from 'postgres';
import { ISSUER } from '../domain/accounts.js';
import { errors, type LedgerError } from '../domain/errors.js';
import { accountsOf, planBatch } from '../domain/gift-plan.js';
import type { CatalogGift, GiftLimits, GiftRequest, UserProfile } from '../domain/gift-rules.js';
import type { BatchState, ClubInfo, LiveEvent, Plan } from '../domain/plan.js';
import { type IdempotencyClaim, outcomeFromStored } from '../idempotency.js';
import { writeOutbox } from '../outbox/batch.js';

export interface BatchItem {
  req: GiftRequest;
  idem?: IdempotencyClaim | undefined;
}

export type Outcome = { status: number; body: unknown } | { error: LedgerError };

const DEADLOCK = '40P01';
const SERIALIZATION = '40001';

/**
 * Commits a batch of gifts in ONE PostgreSQL transaction, three round trips inside it: claim the
 * idempotency keys, read what the rules need and lock every account involved in id order (no
 * deadlocks between batches); apply the pure plan; write every row set-based and NOTIFY the relay.
 */
export async function commitGiftBatch(
  sql: Sql,
  items: BatchItem[],
  limits: GiftLimits,
  notifyChannel: string,
): Promise<Outcome[]> {
  const rewardClubs = new Set<string>();
  for (let attempt = 0; ; attempt++) {
    try {
      return await sql.begin((tx) => runBatch(tx, items, limits, notifyChannel, rewardClubs));
    } catch (err) {
      // Rare: the batch crosses an event goal. Run it again with the club's members locked too.
      if (err instanceof NeedMembers && attempt < 3) {
        for (const c of err.clubs) rewardClubs.add(c);
        continue;
      }
      const code = (err as { code?: string }).code;
      if ((code === DEADLOCK || code === SERIALIZATION) && attempt < 3) continue;
      throw err;
    }
  }
}

class NeedMembers extends Error {
  constructor(readonly clubs: Set<string>) {
    super('batch crosses an event goal: rerun with the club members locked');
  }
}

async function runBatch(
  tx: TransactionSql,
  items: BatchItem[],
  limits: GiftLimits,
  notifyChannel: string,
  rewardClubs: Set<string>,
): Promise<Outcome[]> {
  const now = new Date();
  const outcomes: (Outcome | undefined)[] = new Array(items.length);
  // The key claims run alongside loadState's reads and lock: their order does not matter.
  const [claimed, state] = await Promise.all([
    claimKeys(tx, items),
    loadState(
      tx,
      items.map((i) => i.req),
      now,
      rewardClubs,
    ),
  ]);
  await answerTakenKeys(tx, items, claimed, outcomes);
  const live = items.map((_, i) => i).filter((i) => outcomes[i] === undefined);
  if (live.length === 0) return outcomes as Outcome[];
  const reqs = live.map((i) => (items[i] as BatchItem).req);

  const plan = planBatch(state, reqs, limits, now);
  if (plan.needsMembers.size > 0) throw new NeedMembers(plan.needsMembers);
  plan.results.forEach((r, k) => {
    const i = live[k] as number;
    outcomes[i] = r.ok ? { status: 200, body: { success: true, data: r.response } } : { error: r.error };
  });
  // Every write, the keys' answers and the relay's wake-up together: their order does not matter.
  await Promise.all([writePlan(tx, plan, now, notifyChannel), settleKeys(tx, items, live, outcomes)]);
  return outcomes as Outcome[];
}

const keyOf = (c: { scope: string; key: string }) => `${c.scope}\u0000${c.key}`;

/** Claims every item's idempotency key; the returned set holds the keys this batch now owns. */
async function claimKeys(tx: TransactionSql, items: BatchItem[]): Promise<Set<string>> {
  const keyed = items.filter((it) => it.idem).map((it) => it.idem!);
  if (keyed.length === 0) return new Set();
  const claimed = await tx<{ scope: string; key: string }[]>`
    INSERT INTO idempotency_keys (scope, key, request_hash)
    SELECT * FROM unnest(${keyed.map((k) => k.scope)}::text[], ${keyed.map((k) => k.key)}::text[], ${keyed.map((k) => k.hash)}::text[])
    ON CONFLICT DO NOTHING
    RETURNING scope, key`;
  return new Set(claimed.map(keyOf));
}

/** Items whose key another request already holds get that request's stored answer (or a 409). */
async function answerTakenKeys(
  tx: TransactionSql,
  items: BatchItem[],
  mine: Set<string>,
  outcomes: (Outcome | undefined)[],
) {
  const taken = items.map((it, i) => ({ it, i })).filter((x) => x.it.idem && !mine.has(keyOf(x.it.idem)));
  if (taken.length === 0) return;
  const stored = await tx<
    { scope: string; key: string; request_hash: string; status_code: number | null; response: unknown }[]
  >`
    SELECT scope, key, request_hash, status_code, response FROM idempotency_keys
    WHERE (scope, key) IN (SELECT * FROM unnest(${taken.map((x) => x.it.idem!.scope)}::text[], ${taken.map((x) => x.it.idem!.key)}::text[]))`;
  const byKey = new Map(stored.map((s) => [keyOf(s), s]));
  for (const x of taken) {
    const s = byKey.get(keyOf(x.it.idem!));
    outcomes[x.i] = s ? outcomeFromStored(x.it.idem!, s) : { error: errors.idempotencyMismatch() };
  }
}

/** Stores the answer of each successful keyed item; frees the key of refused ones so a retry runs again. */
async function settleKeys(
  tx: TransactionSql,
  items: BatchItem[],
  live: number[],
  outcomes: (Outcome | undefined)[],
) {
  const done = live.filter((i) => items[i]!.idem);
  const ok = done.filter((i) => 'status' in outcomes[i]!);
  const failed = done.filter((i) => 'error' in outcomes[i]!);
  await Promise.all([
    ok.length
      ? tx`
          UPDATE idempotency_keys k SET status_code = v.status, response = v.response::jsonb
          FROM (SELECT * FROM unnest(${ok.map((i) => items[i]!.idem!.scope)}::text[], ${ok.map((i) => items[i]!.idem!.key)}::text[],
                                     ${ok.map((i) => (outcomes[i] as { status: number }).status)}::int[],
                                     ${ok.map((i) => JSON.stringify((outcomes[i] as { body: unknown }).body))}::text[])
                AS v(scope, key, status, response)) v
          WHERE k.scope = v.scope AND k.key = v.key`
      : null,
    failed.length
      ? tx`
          DELETE FROM idempotency_keys
          WHERE (scope, key) IN (SELECT * FROM unnest(${failed.map((i) => items[i]!.idem!.scope)}::text[], ${failed.map((i) => items[i]!.idem!.key)}::text[]))`
      : null,
  ]);
}

function uniq(xs: (string | undefined)[]): string[] {
  return [...new Set(xs.filter((x): x is string => x !== undefined))];
}

/**
 * Everything the rules need, in two round trips: the reads that need no lock together with the lock
 * itself, then the reads that must see what the lock holder last committed: a club's bar and event
 * totals are only ever read under its treasury's lock (the room's order lock).
 * Members of `rewardClubs` (clubs whose event goal this batch crosses) are locked too, with the issuer.
 */
async function loadState(
  tx: TransactionSql,
  reqs: GiftRequest[],
  now: Date,
  rewardClubs: Set<string>,
): Promise<BatchState> {
  const clubIds = uniq(reqs.map((r) => (r.target.type === 'club' ? r.target.clubId : undefined)));
  const gameIds = uniq(reqs.map((r) => (r.target.type === 'game' ? r.target.gameId : undefined)));
  const senders = uniq(reqs.map((r) => r.senderId));
  const userIds = uniq(
    reqs.flatMap((r) => [
      r.senderId,
      r.target.type === 'user' ? r.target.userId : r.target.type === 'game' ? r.target.playerId : undefined,
    ]),
  );
  const clubPairs = reqs.filter((r) => r.target.type === 'club');
  const gamePairs = reqs.flatMap((r) =>
    r.target.type === 'game'
      ? [[r.target.gameId, r.senderId], ...(r.target.playerId ? [[r.target.gameId, r.target.playerId]] : [])]
      : [],
  ) as [string, string][];
  const rewards = [...rewardClubs];
  const accountIds = uniq(reqs.flatMap(accountsOf));

  // postgres.js pipelines the statements of one Promise.all but does not keep their order (one it must
  // describe first can run after later ones), so the reads that must follow the lock wait for it.
  const [gifts, users, games, members, players, rewardMembers, locked] = await Promise.all([
    tx<CatalogGift[]>`
      SELECT id, name, icon, category, rarity, price, animation_url AS "animationUrl", audio_url AS "audioUrl",
             animation_duration_ms AS "animationDurationMs", active
      FROM gifts WHERE id = ANY(${uniq(reqs.map((r) => r.giftId))})`,
    tx<UserProfile[]>`SELECT id, username, avatar, tier, level FROM users WHERE id = ANY(${userIds})`,
    gameIds.length
      ? tx<{ id: string; name: string }[]>`SELECT id, name FROM games WHERE id = ANY(${gameIds})`
      : [],
    clubPairs.length
      ? tx<{ club_id: string; user_id: string }[]>`
          SELECT club_id, user_id FROM club_members WHERE (club_id, user_id) IN
            (SELECT * FROM unnest(${clubPairs.map((r) => (r.target as { clubId: string }).clubId)}::text[], ${clubPairs.map((r) => r.senderId)}::text[]))`
      : [],
    gamePairs.length
      ? tx<{ game_id: string; user_id: string }[]>`
          SELECT game_id, user_id FROM game_players WHERE (game_id, user_id) IN
            (SELECT * FROM unnest(${gamePairs.map((p) => p[0])}::text[], ${gamePairs.map((p) => p[1])}::text[]))`
      : [],
    rewards.length
      ? tx<
          { club_id: string; user_id: string }[]
        >`SELECT club_id, user_id FROM club_members WHERE club_id = ANY(${rewards}) ORDER BY user_id`
      : [],
    // The lock: every account of the batch in id order, so concurrent batches never deadlock. Two
    // statements, not one with an OR: an OR over a subquery makes PostgreSQL scan the whole table.
    rewards.length === 0
      ? tx<{ id: string; balance: number }[]>`
          SELECT id, balance FROM accounts WHERE id = ANY(${accountIds}) ORDER BY id FOR UPDATE`
      : tx<{ id: string; balance: number }[]>`
          SELECT id, balance FROM accounts
          WHERE id IN (SELECT unnest(${[...accountIds, ISSUER]}::text[])
                       UNION SELECT 'user:' || user_id FROM club_members WHERE club_id = ANY(${rewards}))
          ORDER BY id FOR UPDATE`,
  ]);
  const [clubs, events, contributions] = await Promise.all([
    clubIds.length
      ? tx<ClubInfo[]>`
          SELECT c.id, c.name, c.threshold_value AS "thresholdValue", c.experience,
                 COALESCE((SELECT json_agg(json_build_object('name', l.name, 'target', l.target) ORDER BY l.position)
                           FROM club_threshold_levels l WHERE l.club_id = c.id), '[]') AS levels
          FROM clubs c WHERE c.id = ANY(${clubIds})`
      : [],
    clubIds.length
      ? tx<Omit<LiveEvent, 'contributions'>[]>`
          SELECT id, club_id AS "clubId", name, goal, ends_at AS "endsAt", total_contributed AS "totalContributed",
                 goal_reached_at IS NOT NULL AS "goalReached", reward_club_experience AS "rewardClubExperience",
                 reward_member_crowns AS "rewardMemberCrowns"
          FROM club_events WHERE club_id = ANY(${clubIds}) AND starts_at <= ${now} AND ends_at > ${now}
          ORDER BY id`
      : [],
    // Each live event's top 5 plus this batch's senders: enough to rank the new top 5 (totals only grow).
    // Index lookups per event (event_contributions_top, the primary key), not a ranking of every
    // contributor: a big club's event has thousands.
    clubIds.length
      ? tx<{ event_id: string; user_id: string; amount: number; username: string }[]>`
          SELECT e.id AS event_id, x.user_id, x.amount, u.username
          FROM club_events e
          CROSS JOIN LATERAL (
            (SELECT c.user_id, c.amount FROM event_contributions c WHERE c.event_id = e.id
             ORDER BY c.amount DESC, c.user_id LIMIT 5)
            UNION
            (SELECT c.user_id, c.amount FROM event_contributions c WHERE c.event_id = e.id AND c.user_id = ANY(${senders}))
          ) x
          JOIN users u ON u.id = x.user_id
          WHERE e.club_id = ANY(${clubIds}) AND e.starts_at <= ${now} AND e.ends_at > ${now}`
      : [],
  ]);

  const userMap = new Map(users.map((u) => [u.id, u]));
  const eventsByClub = new Map<string, LiveEvent[]>();
  const byId = new Map<string, LiveEvent>();
  for (const e of events) {
    const ev: LiveEvent = { ...e, contributions: new Map() };
    byId.set(ev.id, ev);
    eventsByClub.set(ev.clubId, [...(eventsByClub.get(ev.clubId) ?? []), ev]);
  }
  for (const c of contributions) {
    byId.get(c.event_id)?.contributions.set(c.user_id, c.amount);
    if (!userMap.has(c.user_id))
      userMap.set(c.user_id, { id: c.user_id, username: c.username, avatar: '', tier: '', level: 0 });
  }
  const membersOf = new Map<string, string[]>(rewards.map((c) => [c, []]));
  for (const m of rewardMembers) membersOf.get(m.club_id)?.push(m.user_id);

  return {
    gifts: new Map(gifts.map((g) => [g.id, g])),
    users: userMap,
    clubs: new Map(clubs.map((c) => [c.id, c])),
    games: new Map(games.map((g) => [g.id, g])),
    clubMembers: new Set(members.map((m) => `${m.club_id}/${m.user_id}`)),
    gamePlayers: new Set(players.map((p) => `${p.game_id}/${p.user_id}`)),
    balances: new Map(locked.map((a) => [a.id, a.balance])),
    events: eventsByClub,
    membersOf,
  };
}

async function writePlan(tx: TransactionSql, plan: Plan, now: Date, notifyChannel: string) {
  if (plan.giftTransactions.length === 0) return;
  const e = plan.entries;
  const g = plan.giftTransactions;
  const n = plan.notifications;
  const o = plan.outbox;
  const clubs = [...plan.clubs.entries()];
  const events = [...plan.events.entries()];
  const contrib = [...plan.contributions.entries()].flatMap(([ev, m]) =>
    [...m.entries()].map(([u, a]) => [ev, u, a] as const),
  );
  await Promise.all([
    tx`
      UPDATE accounts a SET balance = v.balance, updated_at = ${now}
      FROM (SELECT * FROM unnest(${[...plan.balances.keys()]}::text[], ${[...plan.balances.values()]}::bigint[]) AS v(id, balance)) v
      WHERE a.id = v.id`,
    tx`
      INSERT INTO entries (transaction_id, kind, debit_account, credit_account, amount, debit_before, debit_after, credit_before, credit_after)
      SELECT * FROM unnest(${e.map((x) => x.transactionId)}::text[], ${e.map((x) => x.kind)}::text[], ${e.map((x) => x.debitAccount)}::text[],
        ${e.map((x) => x.creditAccount)}::text[], ${e.map((x) => x.amount)}::bigint[], ${e.map((x) => x.debitBefore)}::bigint[],
        ${e.map((x) => x.debitAfter)}::bigint[], ${e.map((x) => x.creditBefore)}::bigint[], ${e.map((x) => x.creditAfter)}::bigint[])`,
    tx`
      INSERT INTO gift_transactions (id, gift_id, quantity, total_value, sender_user_id, recipient_user_id, recipient_club_id,
        recipient_game_id, message, context_type, context_id, websocket_room_id, is_global_announcement, sent_at)
      SELECT * FROM unnest(${g.map((x) => x.id)}::text[], ${g.map((x) => x.giftId)}::text[], ${g.map((x) => x.quantity)}::int[],
        ${g.map((x) => x.totalValue)}::bigint[], ${g.map((x) => x.senderUserId)}::text[], ${g.map((x) => x.recipientUserId) as string[]}::text[],
        ${g.map((x) => x.recipientClubId) as string[]}::text[], ${g.map((x) => x.recipientGameId) as string[]}::text[],
        ${g.map((x) => x.message) as string[]}::text[], ${g.map((x) => x.contextType)}::text[], ${g.map((x) => x.contextId)}::text[],
        ${g.map((x) => x.websocketRoomId)}::text[], ${g.map((x) => (x.isGlobalAnnouncement ? 't' : 'f'))}::text[]::boolean[], ${g.map((x) => x.sentAt.toISOString())}::text[]::timestamptz[])`,
    n.length
      ? tx`
          INSERT INTO notifications (id, user_id, type, title, message, data, created_at)
          SELECT id, user_id, type, title, message, data::jsonb, created_at FROM unnest(${n.map((x) => x.id)}::text[], ${n.map((x) => x.userId)}::text[],
            ${n.map((x) => x.type)}::text[], ${n.map((x) => x.title)}::text[], ${n.map((x) => x.message)}::text[],
            ${n.map((x) => JSON.stringify(x.data))}::text[], ${n.map((x) => x.createdAt.toISOString())}::text[]::timestamptz[])
            AS v(id, user_id, type, title, message, data, created_at)`
      : null,
    clubs.length
      ? tx`
          UPDATE clubs c SET threshold_value = v.tv, experience = v.xp, last_gift_at = ${now}
          FROM (SELECT * FROM unnest(${clubs.map((c) => c[0])}::text[], ${clubs.map((c) => c[1].thresholdValue)}::bigint[],
                                     ${clubs.map((c) => c[1].experience)}::bigint[]) AS v(id, tv, xp)) v
          WHERE c.id = v.id`
      : null,
    events.length
      ? tx`
          UPDATE club_events e SET total_contributed = v.total,
            goal_reached_at = CASE WHEN v.reached THEN COALESCE(e.goal_reached_at, ${now}) ELSE e.goal_reached_at END
          FROM (SELECT * FROM unnest(${events.map((x) => x[0])}::text[], ${events.map((x) => x[1].totalContributed)}::bigint[],
                                     ${events.map((x) => (x[1].goalReached ? 't' : 'f'))}::text[]::boolean[]) AS v(id, total, reached)) v
          WHERE e.id = v.id`
      : null,
    contrib.length
      ? tx`
          INSERT INTO event_contributions (event_id, user_id, amount)
          SELECT * FROM unnest(${contrib.map((c) => c[0])}::text[], ${contrib.map((c) => c[1])}::text[], ${contrib.map((c) => c[2])}::bigint[])
          ON CONFLICT (event_id, user_id) DO UPDATE SET amount = event_contributions.amount + excluded.amount`
      : null,
    // The batch's events in plan order: one outbox row, and the relay's wake-up.
    writeOutbox(
      tx,
      o.map((x) => ({
        eventId: x.eventId,
        room: x.room,
        type: x.type,
        envelope: JSON.stringify(x.envelope),
      })),
      notifyChannel,
    ),
  ]);
}
