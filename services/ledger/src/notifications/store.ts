import type { Sql } from 'postgres';
import { decodeCursor, encodeCursor } from '../cursor.js';

interface Row {
  id: string;
  type: string;
  title: string;
  message: string;
  data: Record<string, unknown>;
  created_at: Date;
  read_at: Date | null;
}

/** Unread first, then newest first; cursor-paginated on that order. */
export async function listNotifications(sql: Sql, userId: string, limit: number, cursor?: string) {
  const after = cursor ? decodeCursor(cursor, 3) : null;
  const rows = await sql<(Row & { unread: boolean })[]>`
    SELECT id, type, title, message, data, created_at, read_at, read_at IS NULL AS unread FROM notifications
    WHERE user_id = ${userId}
    ${after ? sql`AND ((read_at IS NULL)::int, created_at, id) < (${after[0] ? 1 : 0}, ${after[1] as string}::timestamptz, ${after[2] as string})` : sql``}
    ORDER BY (read_at IS NULL)::int DESC, created_at DESC, id DESC LIMIT ${limit + 1}`;
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      id: r.id,
      type: r.type,
      title: r.title,
      message: r.message,
      data: r.data,
      createdAt: r.created_at.toISOString(),
      readAt: r.read_at?.toISOString() ?? null,
    })),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor([last.unread, last.created_at.toISOString(), last.id])
        : null,
  };
}

export async function markRead(
  sql: Sql,
  userId: string,
  which: { ids: string[] } | { all: true },
): Promise<number> {
  const rows =
    'ids' in which
      ? await sql`UPDATE notifications SET read_at = now() WHERE user_id = ${userId} AND read_at IS NULL AND id = ANY(${which.ids}) RETURNING id`
      : await sql`UPDATE notifications SET read_at = now() WHERE user_id = ${userId} AND read_at IS NULL RETURNING id`;
  return rows.length;
}
