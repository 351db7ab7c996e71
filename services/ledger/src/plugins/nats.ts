import { connectNats, DEFAULT_ROOMS_STREAM, ensureRoomsStream, type NatsConnection } from '@crowncast/bus';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    nats: NatsConnection;
  }
}

export interface NatsPluginOptions {
  url: string;
  prefix: string;
  stream: string;
  maxMsgsPerSubject: number;
  maxAgeMs: number;
  duplicateWindowMs: number;
  replicas: number;
}

/** The NATS connection, and the ROOMS stream created or updated on start. */
export default fp<NatsPluginOptions>(
  async (app, opts) => {
    const nc = await connectNats(opts.url, 'crowncast-ledger');
    await ensureRoomsStream(nc, {
      ...DEFAULT_ROOMS_STREAM,
      name: opts.stream,
      prefix: opts.prefix,
      maxMsgsPerSubject: opts.maxMsgsPerSubject,
      maxAgeMs: opts.maxAgeMs,
      duplicateWindowMs: opts.duplicateWindowMs,
      replicas: opts.replicas,
    });
    app.decorate('nats', nc);
    app.addHook('onClose', async () => {
      await nc.drain().catch(() => nc.close());
    });
  },
  { name: 'nats' },
);
