import { connectNats, type NatsConnection } from '@crowncast/bus';
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    nats: NatsConnection;
    js: JetStreamClient;
  }
}

/**
 * The NATS connection. Presence does not create the ROOMS stream (the ledger owns its limits); it
 * only publishes into it.
 */
export default fp<{ url: string }>(
  async (app, opts) => {
    const nc = await connectNats(opts.url, 'crowncast-presence');
    app.decorate('nats', nc);
    app.decorate('js', jetstream(nc));
    app.addHook('onClose', async () => {
      await nc.drain().catch(() => nc.close());
    });
  },
  { name: 'nats' },
);
