import { presenceOnlineSubject, RoomsOnline } from '@crowncast/protocol';
import fp from 'fastify-plugin';

/**
 * Keeps clubs.active_websocket_connections equal to what presence reports on presence.online (the
 * exact count of a club room whose membership changed). Queue group "ledger": one replica writes
 * each report. A malformed report is dropped and counted with the analytics ones.
 */
export default fp<{ prefix: string }>(
  async (app, { prefix }) => {
    const sub = app.nats.subscribe(presenceOnlineSubject(prefix), {
      queue: 'ledger',
      callback: (err, msg) => {
        if (err) return;
        let report: RoomsOnline;
        try {
          report = RoomsOnline.parse(msg.json());
        } catch {
          app.log.debug('malformed presence.online report dropped');
          return;
        }
        const clubs = report.rooms.filter((r) => r.room.startsWith('club:'));
        if (clubs.length === 0) return;
        app.sql`
          UPDATE clubs c SET active_websocket_connections = v.n
          FROM (SELECT * FROM unnest(${clubs.map((r) => r.room.slice(5))}::text[], ${clubs.map((r) => r.online)}::int[]) AS v(id, n)) v
          WHERE c.id = v.id`.catch((e: Error) =>
          app.log.warn({ err: e.message }, 'club connection counts not written'),
        );
      },
    });
    app.addHook('onClose', async () => {
      sub.unsubscribe();
    });
  },
  { name: 'presence-counts', dependencies: ['nats', 'postgres'] },
);
