import type { TransactionSql } from 'postgres';
import { clubAccount, gameAccount, ISSUER, userAccount } from '../domain/accounts.js';
import { errors } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { writeOutbox } from '../outbox/batch.js';

/** What the host app owns, written through the admin API. Each runs inside the caller's transaction. */

export async function upsertUser(
  tx: TransactionSql,
  id: string,
  u: { username: string; avatar: string; tier: string; level: number },
) {
  await tx`
    INSERT INTO users (id, username, avatar, tier, level) VALUES (${id}, ${u.username}, ${u.avatar}, ${u.tier}, ${u.level})
    ON CONFLICT (id) DO UPDATE SET username = excluded.username, avatar = excluded.avatar, tier = excluded.tier,
      level = excluded.level, updated_at = now()`;
  await tx`INSERT INTO accounts (id, kind, owner_id) VALUES (${userAccount(id)}, 'user', ${id}) ON CONFLICT DO NOTHING`;
  return { id, ...u };
}

/** A purchase: crowns move from the issuer to the user's wallet, with its entry and a live balance event. */
export async function grant(
  tx: TransactionSql,
  userId: string,
  amount: number,
  reason: string,
  notifyChannel: string,
) {
  const wallet = userAccount(userId);
  const locked = await tx<{ id: string; balance: number }[]>`
    SELECT id, balance FROM accounts WHERE id IN (${ISSUER}, ${wallet}) ORDER BY id FOR UPDATE`;
  const before = locked.find((a) => a.id === wallet)?.balance;
  const issuerBefore = locked.find((a) => a.id === ISSUER)?.balance;
  if (before === undefined || issuerBefore === undefined) throw errors.userNotFound(userId);
  const grantId = newId('grt');
  const after = before + amount;
  await tx`INSERT INTO grants (id, user_id, amount, reason) VALUES (${grantId}, ${userId}, ${amount}, ${reason})`;
  await tx`UPDATE accounts SET balance = balance - ${amount}, updated_at = now() WHERE id = ${ISSUER}`;
  await tx`UPDATE accounts SET balance = ${after}, updated_at = now() WHERE id = ${wallet}`;
  await tx`
    INSERT INTO entries (transaction_id, kind, debit_account, credit_account, amount, debit_before, debit_after, credit_before, credit_after)
    VALUES (${grantId}, 'grant', ${ISSUER}, ${wallet}, ${amount}, ${issuerBefore}, ${issuerBefore - amount}, ${before}, ${after})`;
  const ts = new Date().toISOString();
  const eventId = `${grantId}.0`;
  const envelope = {
    type: 'wallet:balance_updated',
    id: eventId,
    ts,
    data: {
      userId,
      balance: after,
      previousBalance: before,
      delta: amount,
      reason: 'grant',
      transactionId: grantId,
      timestamp: ts,
    },
  };
  await writeOutbox(
    tx,
    [{ eventId, room: `user:${userId}`, type: 'wallet:balance_updated', envelope: JSON.stringify(envelope) }],
    notifyChannel,
  );
  return { grantId, userId, balance: after };
}

export async function upsertClub(tx: TransactionSql, id: string, c: { name: string; avatar: string }) {
  await tx`
    INSERT INTO clubs (id, name, avatar) VALUES (${id}, ${c.name}, ${c.avatar})
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, avatar = excluded.avatar`;
  await tx`INSERT INTO accounts (id, kind, owner_id) VALUES (${clubAccount(id)}, 'club', ${id}) ON CONFLICT DO NOTHING`;
  return { id, ...c };
}

export async function upsertGame(tx: TransactionSql, id: string, g: { name: string }) {
  await tx`INSERT INTO games (id, name) VALUES (${id}, ${g.name}) ON CONFLICT (id) DO UPDATE SET name = excluded.name`;
  await tx`INSERT INTO accounts (id, kind, owner_id) VALUES (${gameAccount(id)}, 'game', ${id}) ON CONFLICT DO NOTHING`;
  return { id, ...g };
}

async function assertExists(tx: TransactionSql, table: 'users' | 'clubs' | 'games', id: string) {
  const [row] = await tx`SELECT 1 FROM ${tx(table)} WHERE id = ${id}`;
  if (!row)
    throw table === 'users'
      ? errors.userNotFound(id)
      : table === 'clubs'
        ? errors.clubNotFound(id)
        : errors.gameNotFound(id);
}

export async function setMembership(
  tx: TransactionSql,
  kind: 'club' | 'game',
  roomId: string,
  userId: string,
  member: boolean,
) {
  await assertExists(tx, kind === 'club' ? 'clubs' : 'games', roomId);
  await assertExists(tx, 'users', userId);
  if (kind === 'club') {
    if (member)
      await tx`INSERT INTO club_members (club_id, user_id) VALUES (${roomId}, ${userId}) ON CONFLICT DO NOTHING`;
    else await tx`DELETE FROM club_members WHERE club_id = ${roomId} AND user_id = ${userId}`;
  } else if (member) {
    await tx`INSERT INTO game_players (game_id, user_id) VALUES (${roomId}, ${userId}) ON CONFLICT DO NOTHING`;
  } else {
    await tx`DELETE FROM game_players WHERE game_id = ${roomId} AND user_id = ${userId}`;
  }
  return { room: `${kind}:${roomId}`, userId, member };
}

export async function setThresholdLevels(
  tx: TransactionSql,
  clubId: string,
  levels: { name: string; target: number }[],
) {
  await assertExists(tx, 'clubs', clubId);
  const sorted = [...levels].sort((a, b) => a.target - b.target);
  await tx`DELETE FROM club_threshold_levels WHERE club_id = ${clubId}`;
  await tx`
    INSERT INTO club_threshold_levels (club_id, position, name, target)
    SELECT ${clubId}, * FROM unnest(${sorted.map((_, i) => i)}::int[], ${sorted.map((l) => l.name)}::text[], ${sorted.map((l) => l.target)}::bigint[])`;
  return { clubId, levels: sorted };
}

export async function createClubEvent(
  tx: TransactionSql,
  clubId: string,
  e: {
    name: string;
    goal: number;
    startsAt: string;
    endsAt: string;
    rewardClubExperience: number;
    rewardMemberCrowns: number;
  },
) {
  await assertExists(tx, 'clubs', clubId);
  if (new Date(e.endsAt) <= new Date(e.startsAt)) throw errors.badEventWindow();
  const id = newId('evt');
  await tx`
    INSERT INTO club_events (id, club_id, name, goal, starts_at, ends_at, reward_club_experience, reward_member_crowns)
    VALUES (${id}, ${clubId}, ${e.name}, ${e.goal}, ${e.startsAt}, ${e.endsAt}, ${e.rewardClubExperience}, ${e.rewardMemberCrowns})`;
  return { id, clubId, ...e };
}

export async function upsertGift(
  tx: TransactionSql,
  id: string,
  g: {
    name: string;
    icon: string;
    category: string;
    rarity: string;
    price: number;
    animationUrl: string;
    audioUrl: string;
    animationDurationMs: number;
  },
) {
  await tx`
    INSERT INTO gifts (id, name, icon, category, rarity, price, animation_url, audio_url, animation_duration_ms)
    VALUES (${id}, ${g.name}, ${g.icon}, ${g.category}, ${g.rarity}, ${g.price}, ${g.animationUrl}, ${g.audioUrl}, ${g.animationDurationMs})
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, icon = excluded.icon, category = excluded.category, rarity = excluded.rarity,
      price = excluded.price, animation_url = excluded.animation_url, audio_url = excluded.audio_url,
      animation_duration_ms = excluded.animation_duration_ms, active = true`;
  return { id, ...g };
}

/** The money invariants, for operators and tests: total 0, circulating = issued, nothing negative. */
export async function audit(tx: TransactionSql) {
  const [row] = await tx<{ total: number; circulating: number; issued: number; negative: number }[]>`
    SELECT COALESCE(sum(balance), 0)::bigint AS total,
           COALESCE(sum(balance) FILTER (WHERE kind <> 'system'), 0)::bigint AS circulating,
           (SELECT COALESCE(sum(amount), 0) FROM entries WHERE kind IN ('grant', 'event_reward'))::bigint AS issued,
           count(*) FILTER (WHERE balance < 0 AND kind <> 'system')::int AS negative
    FROM accounts`;
  return {
    totalSum: row!.total,
    circulating: row!.circulating,
    issued: row!.issued,
    negativeBalances: row!.negative,
  };
}
