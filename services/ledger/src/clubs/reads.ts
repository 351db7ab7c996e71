import type { Sql } from 'postgres';
import { userAccount } from '../domain/accounts.js';
import { errors } from '../domain/errors.js';
import { currentLevel, type ThresholdLevel } from '../domain/threshold.js';

export async function wallet(sql: Sql, userId: string) {
  const [row] = await sql<{ balance: number; updated_at: Date }[]>`
    SELECT balance, updated_at FROM accounts WHERE id = ${userAccount(userId)}`;
  if (!row) throw errors.userNotFound(userId);
  return { userId, balance: row.balance, updatedAt: row.updated_at.toISOString() };
}

/** Members only: a club's rooms and numbers are not public. */
export async function assertMember(sql: Sql, clubId: string, userId: string) {
  const [row] = await sql<{ member: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM club_members WHERE club_id = ${clubId} AND user_id = ${userId}) AS member
    FROM clubs WHERE id = ${clubId}`;
  if (!row) throw errors.clubNotFound(clubId);
  if (!row.member) throw errors.notAMember(clubId);
}

export async function threshold(sql: Sql, clubId: string) {
  const [club] = await sql<{ threshold_value: number; levels: ThresholdLevel[] }[]>`
    SELECT c.threshold_value,
           COALESCE((SELECT json_agg(json_build_object('name', l.name, 'target', l.target) ORDER BY l.position)
                     FROM club_threshold_levels l WHERE l.club_id = c.id), '[]') AS levels
    FROM clubs c WHERE c.id = ${clubId}`;
  if (!club) throw errors.clubNotFound(clubId);
  const level = currentLevel(club.levels, club.threshold_value);
  return {
    clubId,
    currentValue: club.threshold_value,
    levelName: level?.levelName ?? null,
    targetValue: level?.targetValue ?? null,
    progress: level?.progress ?? 0,
    completed: level?.completed ?? false,
    levels: level?.levels ?? [],
  };
}

export async function activeEvents(sql: Sql, clubId: string) {
  const events = await sql<
    {
      id: string;
      name: string;
      goal: number;
      total_contributed: number;
      starts_at: Date;
      ends_at: Date;
      goal_reached_at: Date | null;
      reward_club_experience: number;
      reward_member_crowns: number;
      top: { userId: string; username: string; contribution: number }[];
    }[]
  >`
    SELECT e.*, COALESCE((
      SELECT json_agg(json_build_object('userId', c.user_id, 'username', u.username, 'contribution', c.amount)
                      ORDER BY c.amount DESC, c.user_id)
      FROM (SELECT * FROM event_contributions WHERE event_id = e.id ORDER BY amount DESC, user_id LIMIT 5) c
      JOIN users u ON u.id = c.user_id), '[]') AS top
    FROM club_events e WHERE e.club_id = ${clubId} AND e.starts_at <= now() AND e.ends_at > now()
    ORDER BY e.ends_at, e.id`;
  return events.map((e) => ({
    id: e.id,
    clubId,
    name: e.name,
    goal: e.goal,
    totalContributed: e.total_contributed,
    progress: Math.min(100, Math.round((e.total_contributed / e.goal) * 10_000) / 100),
    startsAt: e.starts_at.toISOString(),
    endsAt: e.ends_at.toISOString(),
    goalReachedAt: e.goal_reached_at?.toISOString() ?? null,
    rewards: { clubExperience: e.reward_club_experience, memberCrownsBonus: e.reward_member_crowns },
    topContributors: e.top.map((t, i) => ({ ...t, contribution: Number(t.contribution), rank: i + 1 })),
  }));
}
