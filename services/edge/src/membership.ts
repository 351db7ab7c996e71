import {
  MembershipChanged,
  MembershipReply,
  membershipChangedSubject,
  membershipSubject,
  type Room,
} from '@crowncast/protocol';
import type { NatsConnection } from '@nats-io/transport-node';
import { monoMs } from './clock.js';

export class MembershipUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MembershipUnavailable';
  }
}

export interface MembershipOptions {
  nc: NatsConnection;
  prefix: string;
  cacheMs: number;
  timeoutMs: number;
  /** Called when the ledger says a user left a room, after the cache entry is dropped. */
  onRevoked: (userId: string, room: Room) => void;
  onError: (err: Error) => void;
}

export type Membership = ReturnType<typeof createMembership>;

/**
 * "Is this user a member of this room?" The ledger owns the answer; the edge asks it over NATS
 * request/reply and caches answers for a few seconds. The ledger's change notices drop a cache entry
 * at once, and a removal takes the user out of the room on this edge immediately.
 */
export function createMembership(o: MembershipOptions) {
  const cache = new Map<string, { member: boolean; until: number }>();
  const key = (userId: string, room: Room) => `${userId}|${room}`;

  const sub = o.nc.subscribe(membershipChangedSubject(o.prefix), {
    callback: (err, msg) => {
      if (err) return o.onError(err);
      let parsed: ReturnType<typeof MembershipChanged.safeParse>;
      try {
        parsed = MembershipChanged.safeParse(msg.json());
      } catch {
        return;
      }
      if (!parsed.success) return;
      const { userId, room, member } = parsed.data;
      cache.delete(key(userId, room));
      if (!member) o.onRevoked(userId, room);
    },
  });

  return {
    async isMember(userId: string, room: Room): Promise<boolean> {
      // The edge decides these without asking: they follow from the token alone.
      if (room === 'global') return true;
      if (room.startsWith('user:')) return room === `user:${userId}`;
      const k = key(userId, room);
      const hit = cache.get(k);
      if (hit && hit.until > monoMs()) return hit.member;
      let reply: MembershipReply;
      try {
        const msg = await o.nc.request(membershipSubject(o.prefix), JSON.stringify({ userId, room }), {
          timeout: o.timeoutMs,
        });
        reply = MembershipReply.parse(msg.json());
      } catch (err) {
        throw new MembershipUnavailable(`membership lookup failed: ${(err as Error).message}`);
      }
      if ('error' in reply) throw new MembershipUnavailable(`${reply.error.code}: ${reply.error.message}`);
      if (o.cacheMs > 0) cache.set(k, { member: reply.member, until: monoMs() + o.cacheMs });
      if (cache.size > 100_000) cache.clear();
      return reply.member;
    },
    close(): void {
      sub.unsubscribe();
      cache.clear();
    },
  };
}
