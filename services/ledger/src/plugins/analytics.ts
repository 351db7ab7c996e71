import {
  AnimationPlayedBatch,
  animationPlayedSubject,
  DeliveryReport,
  deliveryReportSubject,
} from '@crowncast/protocol';
import type { Msg } from '@nats-io/transport-node';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import type { z } from 'zod';
import { createRecorder } from '../analytics/recorder.js';

/**
 * Records what edges report (analytics.delivery, analytics.animation). Queue group "ledger": each
 * report is recorded by one replica. Malformed reports are dropped and counted.
 */
export default fp<{ prefix: string; flushMs: number }>(
  async (app, { prefix, flushMs }) => {
    const dropped = new Counter({
      name: 'crowncast_ledger_analytics_dropped_total',
      help: 'Malformed analytics reports dropped',
      registers: [app.metrics.registry],
    });
    const recorder = createRecorder(app.sql, {
      flushMs,
      max: 1000,
      onError: (err) => app.log.warn({ err: (err as Error).message }, 'analytics write failed'),
    });
    const parse = <S extends z.ZodType>(schema: S, msg: Msg): z.infer<S> | null => {
      try {
        const r = schema.safeParse(msg.json());
        if (r.success) return r.data;
      } catch {
        // not JSON
      }
      dropped.inc();
      return null;
    };
    const subs = [
      app.nats.subscribe(deliveryReportSubject(prefix), {
        queue: 'ledger',
        callback: (err, msg) => {
          const r = err ? null : parse(DeliveryReport, msg);
          if (r) recorder.deliveries(r);
        },
      }),
      app.nats.subscribe(animationPlayedSubject(prefix), {
        queue: 'ledger',
        callback: (err, msg) => {
          const b = err ? null : parse(AnimationPlayedBatch, msg);
          if (b) recorder.plays(b);
        },
      }),
    ];
    app.addHook('onClose', async () => {
      for (const s of subs) s.unsubscribe();
      await recorder.flush();
    });
  },
  { name: 'analytics', dependencies: ['nats', 'postgres', 'metrics'] },
);
