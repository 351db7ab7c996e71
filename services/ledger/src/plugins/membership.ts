import {
  MembershipChanged,
  type MembershipReply,
  MembershipRequest,
  membershipChangedSubject,
  membershipSubject,
} from '@crowncast/protocol';
import type { Msg } from '@nats-io/transport-node';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** Tells edges at once that a user joined or left a club/game. */
    announceMembership: (room: string, userId: string, member: boolean) => void;
  }
}

/** Answers edges' "is this user a member of this room?" over NATS request/reply. */
export default fp<{ prefix: string }>(
  async (app, { prefix }) => {
    const sub = app.nats.subscribe(membershipSubject(prefix), {
      queue: 'ledger',
      callback: (err, msg) => {
        if (!err) void answer(msg);
      },
    });
    async function answer(msg: Msg) {
      const reply = (r: MembershipReply) => msg.respond(JSON.stringify(r));
      let parsed: ReturnType<typeof MembershipRequest.safeParse>;
      try {
        parsed = MembershipRequest.safeParse(msg.json());
      } catch {
        return reply({ error: { code: 'LEDGER_BAD_REQUEST', message: 'membership requests are JSON' } });
      }
      if (!parsed.success)
        return reply({ error: { code: 'LEDGER_BAD_REQUEST', message: 'expected { userId, room }' } });
      const { userId, room } = parsed.data;
      try {
        if (room === 'global') return reply({ member: true });
        const [kind, id] = room.split(':') as [string, string];
        if (kind === 'user') return reply({ member: id === userId });
        const rows =
          kind === 'club'
            ? await app.sql`SELECT 1 FROM club_members WHERE club_id = ${id} AND user_id = ${userId}`
            : await app.sql`SELECT 1 FROM game_players WHERE game_id = ${id} AND user_id = ${userId}`;
        return reply({ member: rows.length > 0 });
      } catch (e) {
        app.log.warn({ err: (e as Error).message }, 'membership lookup failed');
        return reply({ error: { code: 'LEDGER_UNAVAILABLE', message: 'membership lookup failed' } });
      }
    }
    app.decorate('announceMembership', (room: string, userId: string, member: boolean) => {
      const msg = MembershipChanged.safeParse({ room, userId, member });
      if (msg.success) app.nats.publish(membershipChangedSubject(prefix), JSON.stringify(msg.data));
    });
    app.addHook('onClose', async () => {
      sub.unsubscribe();
    });
  },
  { name: 'membership', dependencies: ['nats', 'postgres'] },
);
