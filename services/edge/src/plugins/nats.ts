import { connectNats, type NatsConnection } from '@crowncast/bus';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    nats: NatsConnection;
    js: JetStreamClient;
    jsm: JetStreamManager;
  }
}

/**
 * The NATS connection. The edge never creates the ROOMS stream (the ledger owns it); it only reads
 * it for replays, so it starts even before the stream exists.
 */
export default fp<{ url: string; name: string }>(
  async (app, opts) => {
    const nc = await connectNats(opts.url, opts.name);
    app.decorate('nats', nc);
    app.decorate('js', jetstream(nc));
    app.decorate('jsm', await jetstreamManager(nc, { checkAPI: false }));
    app.addHook('onClose', async () => {
      await nc.drain().catch(() => nc.close());
    });
  },
  { name: 'nats' },
);
