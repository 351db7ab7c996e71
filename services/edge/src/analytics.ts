import {
  type AnimationPlayedBatch,
  type AnimationPlayedData,
  animationPlayedSubject,
  type DeliveryReport,
  deliveryReportSubject,
} from '@crowncast/protocol';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Delivered } from './fanout/hub.js';

type Report = DeliveryReport['reports'][number];
type Play = AnimationPlayedBatch['plays'][number];

const MAX_BATCH = 1000;

export type Analytics = ReturnType<typeof createAnalytics>;

/**
 * Delivery analytics for the ledger: per event and room, how many sockets this edge wrote it to,
 * and clients' animation-played reports. Batched per interval and capped per message; losing one
 * loses a statistic, never an event.
 */
export function createAnalytics(o: { nc: NatsConnection; prefix: string; edgeId: string; flushMs: number }) {
  let reports: Report[] = [];
  let plays: Play[] = [];

  function flush() {
    if (o.nc.isClosed()) return;
    while (reports.length) {
      const body: DeliveryReport = { edgeId: o.edgeId, reports: reports.slice(0, MAX_BATCH) };
      reports = reports.slice(MAX_BATCH);
      o.nc.publish(deliveryReportSubject(o.prefix), JSON.stringify(body));
    }
    while (plays.length) {
      const body: AnimationPlayedBatch = { edgeId: o.edgeId, plays: plays.slice(0, MAX_BATCH) };
      plays = plays.slice(MAX_BATCH);
      o.nc.publish(animationPlayedSubject(o.prefix), JSON.stringify(body));
    }
  }
  const timer = setInterval(flush, o.flushMs);
  timer.unref();

  return {
    delivered(d: Delivered): void {
      reports.push({
        eventId: d.event.id.slice(0, 128),
        type: d.event.type,
        room: d.event.room,
        sockets: d.sockets,
        writtenAt: d.writtenAt,
        latencyMs: Math.max(0, d.writtenAt - d.event.tsMs),
      });
      if (reports.length >= MAX_BATCH * 10) flush();
    },
    animationPlayed(userId: string, data: AnimationPlayedData): void {
      plays.push({ ...data, userId, playedAt: Date.now() });
      if (plays.length >= MAX_BATCH * 10) flush();
    },
    /** Publishes what is pending (shutdown). */
    flush,
    close(): void {
      clearInterval(timer);
      flush();
    },
  };
}
