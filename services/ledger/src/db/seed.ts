import type { Sql } from 'postgres';
import * as ops from '../admin/ops.js';
import { claimFor, withIdempotency } from '../idempotency.js';

/** The demo world: a catalog of 16 gifts, five users, a club with levels and a live event, a game. */
export const DEMO_USERS = [
  { id: 'alice', username: 'Alice', tier: 'gold', level: 42 },
  { id: 'bob', username: 'Bob', tier: 'silver', level: 17 },
  { id: 'carol', username: 'Carol', tier: 'bronze', level: 5 },
  { id: 'dave', username: 'Dave', tier: 'platinum', level: 60 },
  { id: 'erin', username: 'Erin', tier: 'bronze', level: 2 },
] as const;

type G = [
  id: string,
  name: string,
  icon: string,
  category: 'basic' | 'premium' | 'ultra',
  rarity: 'common' | 'rare' | 'epic' | 'legendary',
  price: number,
  ms: number,
];
export const DEMO_GIFTS: G[] = [
  ['gift_coffee', 'Coffee', '☕', 'basic', 'common', 10, 2500],
  ['gift_rose', 'Rose', '🌹', 'basic', 'common', 20, 3000],
  ['gift_heart', 'Heart', '❤️', 'basic', 'common', 30, 2500],
  ['gift_star', 'Star', '⭐', 'basic', 'common', 50, 2500],
  ['gift_cake', 'Cake', '🎂', 'basic', 'rare', 80, 3000],
  ['gift_crown', 'Crown', '👑', 'premium', 'rare', 150, 3500],
  ['gift_diamond', 'Diamond', '💎', 'premium', 'rare', 300, 3500],
  ['gift_rocket', 'Rocket', '🚀', 'premium', 'epic', 500, 4000],
  ['gift_trophy', 'Trophy', '🏆', 'premium', 'epic', 800, 4000],
  ['gift_unicorn', 'Unicorn', '🦄', 'premium', 'epic', 1200, 4500],
  ['gift_fireworks', 'Fireworks', '🎆', 'ultra', 'epic', 2000, 4500],
  ['gift_castle', 'Castle', '🏰', 'ultra', 'epic', 3500, 5000],
  ['gift_yacht', 'Yacht', '🛥️', 'ultra', 'legendary', 5000, 5000],
  ['gift_phoenix', 'Phoenix', '🔥', 'ultra', 'legendary', 8000, 5000],
  ['gift_dragon', 'Golden Dragon', '🐉', 'ultra', 'legendary', 10000, 5000],
  ['gift_galaxy', 'Galaxy', '🌌', 'ultra', 'legendary', 25000, 5000],
];

export async function seed(sql: Sql, notifyChannel: string): Promise<void> {
  await sql.begin(async (tx) => {
    for (const [id, name, icon, category, rarity, price, ms] of DEMO_GIFTS) {
      await ops.upsertGift(tx, id, {
        name,
        icon,
        category,
        rarity,
        price,
        animationUrl: `/animations/${id}.json`,
        audioUrl: `/audio/${id}.mp3`,
        animationDurationMs: ms,
      });
    }
    for (const u of DEMO_USERS) await ops.upsertUser(tx, u.id, { ...u, avatar: `/avatars/${u.id}.png` });
    await ops.upsertClub(tx, 'club_demo', { name: 'Dragon Riders', avatar: '/avatars/club_demo.png' });
    for (const u of DEMO_USERS)
      if (u.id !== 'erin') await ops.setMembership(tx, 'club', 'club_demo', u.id, true);
    await ops.setThresholdLevels(tx, 'club_demo', [
      { name: 'Bronze', target: 1_000 },
      { name: 'Silver', target: 5_000 },
      { name: 'Gold', target: 20_000 },
      { name: 'Diamond', target: 100_000 },
    ]);
    await ops.upsertGame(tx, 'game_demo', { name: 'Ludo table 7' });
    for (const id of ['alice', 'bob', 'carol']) await ops.setMembership(tx, 'game', 'game_demo', id, true);
    const [live] = await tx`SELECT 1 FROM club_events WHERE club_id = 'club_demo' AND ends_at > now()`;
    if (!live) {
      await ops.createClubEvent(tx, 'club_demo', {
        name: 'Weekend Rally',
        goal: 5_000,
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + 7 * 24 * 3600_000).toISOString(),
        rewardClubExperience: 100,
        rewardMemberCrowns: 50,
      });
    }
  });
  // One grant per demo user, ever: the Idempotency-Key makes re-seeding move nothing.
  for (const u of DEMO_USERS) {
    const claim = claimFor('admin', `seed-grant-${u.id}`, 'user.grant', [
      { userId: u.id },
      { amount: 50_000, reason: 'demo seed' },
    ]);
    await withIdempotency(sql, claim, async (tx) => ({
      status: 200,
      body: { success: true, data: await ops.grant(tx, u.id, 50_000, 'demo seed', notifyChannel) },
    }));
  }
}
