import type { AnimationPlayedBatch, DeliveryReport } from '@crowncast/protocol';
import type { Sql } from 'postgres';

type Delivery = DeliveryReport['reports'][number] & { edgeId: string };
type Play = AnimationPlayedBatch['plays'][number];

/**
 * Buffers edges' delivery reports and clients' animation plays and writes them set-based, at most
 * every `flushMs` or `max` rows. A report for a gift also adds its sockets to the gift's
 * websocket_recipient_count. Plays naming an unknown gift or user are skipped, not errors.
 */
export function createRecorder(
  sql: Sql,
  opts: { flushMs: number; max: number; onError: (err: unknown) => void },
) {
  let deliveries: Delivery[] = [];
  let plays: Play[] = [];
  let timer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> = Promise.resolve();

  const schedule = () => {
    if (deliveries.length + plays.length >= opts.max) void flush();
    else timer ??= setTimeout(() => void flush(), opts.flushMs);
  };

  async function write(d: Delivery[], p: Play[]) {
    if (d.length) {
      await sql`
        INSERT INTO websocket_events (event_id, event_type, room_id, server_id, recipient_count, broadcast_at, processing_time_ms)
        SELECT e, t, r, s, n, to_timestamp(w / 1000.0), round(l)::int
        FROM unnest(${d.map((x) => x.eventId)}::text[], ${d.map((x) => x.type)}::text[], ${d.map((x) => x.room)}::text[],
                    ${d.map((x) => x.edgeId)}::text[], ${d.map((x) => x.sockets)}::int[], ${d.map((x) => x.writtenAt)}::float8[],
                    ${d.map((x) => x.latencyMs)}::float8[]) AS v(e, t, r, s, n, w, l)`;
      const gifts = new Map<string, number>();
      for (const x of d) {
        if (x.type !== 'gift:received') continue;
        const tx = x.eventId.split('.')[0] as string;
        gifts.set(tx, (gifts.get(tx) ?? 0) + x.sockets);
      }
      if (gifts.size) {
        await sql`
          UPDATE gift_transactions g SET websocket_recipient_count = g.websocket_recipient_count + v.n
          FROM (SELECT * FROM unnest(${[...gifts.keys()]}::text[], ${[...gifts.values()]}::int[]) AS v(id, n)) v
          WHERE g.id = v.id`;
      }
    }
    if (p.length) {
      await sql`
        INSERT INTO gift_animation_plays (gift_transaction_id, user_id, animation_started_at, animation_completed_at,
          animation_duration_ms, platform, app_version, completed, error_message)
        SELECT v.g, v.u, to_timestamp(v.at / 1000.0),
               CASE WHEN v.c AND v.d IS NOT NULL THEN to_timestamp((v.at + v.d) / 1000.0) END, v.d, v.pf, v.av, v.c, v.err
        FROM unnest(${p.map((x) => x.giftTransactionId)}::text[], ${p.map((x) => x.userId)}::text[], ${p.map((x) => x.playedAt)}::float8[],
                    ${p.map((x) => x.durationMs ?? null) as number[]}::int[], ${p.map((x) => x.platform ?? null) as string[]}::text[],
                    ${p.map((x) => x.appVersion ?? null) as string[]}::text[], ${p.map((x) => (x.completed ? 't' : 'f'))}::text[]::boolean[],
                    ${p.map((x) => x.errorMessage ?? null) as string[]}::text[]) AS v(g, u, at, d, pf, av, c, err)
        WHERE EXISTS (SELECT 1 FROM gift_transactions WHERE id = v.g) AND EXISTS (SELECT 1 FROM users WHERE id = v.u)`;
    }
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    const d = deliveries;
    const p = plays;
    deliveries = [];
    plays = [];
    if (!d.length && !p.length) return flushing;
    flushing = flushing.then(() => write(d, p)).catch(opts.onError);
    return flushing;
  }

  return {
    deliveries(r: DeliveryReport) {
      for (const x of r.reports) deliveries.push({ ...x, edgeId: r.edgeId });
      schedule();
    },
    plays(b: AnimationPlayedBatch) {
      plays.push(...b.plays);
      schedule();
    },
    flush,
  };
}
