import type { Gift, GiftTransaction } from '@crowncast/protocol';
import type { Sql } from 'postgres';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { errors } from '../domain/errors.js';

export async function catalog(sql: Sql): Promise<Gift[]> {
  return sql<Gift[]>`
    SELECT id, name, icon, category, rarity, price, animation_url AS "animationUrl", audio_url AS "audioUrl",
           animation_duration_ms AS "animationDurationMs"
    FROM gifts WHERE active ORDER BY price, id`;
}

const txColumns = (sql: Sql) => sql`
  t.id, t.gift_id AS "giftId", g.name AS "giftName", t.quantity, t.total_value AS "totalValue",
  t.sender_user_id AS "senderUserId", u.username AS "senderUsername", t.recipient_user_id AS "recipientUserId",
  t.recipient_club_id AS "recipientClubId", t.context_type AS "contextType", t.context_id AS "contextId",
  t.message, t.sent_at AS "sentAt"`;

type TxRow = Omit<GiftTransaction, 'sentAt'> & { sentAt: Date };
const toApi = (r: TxRow): GiftTransaction => ({ ...r, sentAt: r.sentAt.toISOString() });

/** Cursor-paginated on (sent_at, id), newest first. */
export async function history(
  sql: Sql,
  userId: string,
  q: { direction: 'sent' | 'received' | 'all'; limit: number; cursor?: string | undefined },
) {
  const after = q.cursor ? decodeCursor(q.cursor, 2) : null;
  const mine =
    q.direction === 'sent'
      ? sql`t.sender_user_id = ${userId}`
      : q.direction === 'received'
        ? sql`t.recipient_user_id = ${userId}`
        : sql`(t.sender_user_id = ${userId} OR t.recipient_user_id = ${userId})`;
  const rows = await sql<TxRow[]>`
    SELECT ${txColumns(sql)} FROM gift_transactions t JOIN gifts g ON g.id = t.gift_id JOIN users u ON u.id = t.sender_user_id
    WHERE ${mine} ${after ? sql`AND (t.sent_at, t.id) < (${after[0] as string}::timestamptz, ${after[1] as string})` : sql``}
    ORDER BY t.sent_at DESC, t.id DESC LIMIT ${q.limit + 1}`;
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toApi),
    nextCursor: rows.length > q.limit && last ? encodeCursor([last.sentAt.toISOString(), last.id]) : null,
  };
}

export async function recentClubGifts(
  sql: Sql,
  userId: string,
  clubId: string,
  limit: number,
): Promise<GiftTransaction[]> {
  const [member] = await sql`SELECT 1 FROM club_members WHERE club_id = ${clubId} AND user_id = ${userId}`;
  if (!member) {
    const [club] = await sql`SELECT 1 FROM clubs WHERE id = ${clubId}`;
    throw club ? errors.notAMember(clubId) : errors.clubNotFound(clubId);
  }
  const rows = await sql<TxRow[]>`
    SELECT ${txColumns(sql)} FROM gift_transactions t JOIN gifts g ON g.id = t.gift_id JOIN users u ON u.id = t.sender_user_id
    WHERE t.context_type = 'club' AND t.context_id = ${clubId}
    ORDER BY t.sent_at DESC, t.id DESC LIMIT ${limit}`;
  return rows.map(toApi);
}
