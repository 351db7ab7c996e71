import { z } from 'zod';
import { Id, Room } from './ids.js';

/**
 * Service-to-service contracts on NATS (not for clients).
 *
 * Membership: the ledger owns who belongs to which club and game. Edges ask it with a request/reply
 * on `<prefix>ledger.membership` (queue group "ledger", so any replica answers) and cache answers
 * briefly; the ledger announces changes on `<prefix>ledger.membership.changed` so an edge can drop
 * a removed member from a room at once.
 */
export const MembershipRequest = z.object({ userId: Id, room: Room });
export type MembershipRequest = z.infer<typeof MembershipRequest>;

export const MembershipReply = z.union([
  z.object({ member: z.boolean() }),
  z.object({ error: z.object({ code: z.string(), message: z.string() }) }),
]);
export type MembershipReply = z.infer<typeof MembershipReply>;

export const MembershipChanged = z.object({ userId: Id, room: Room, member: z.boolean() });
export type MembershipChanged = z.infer<typeof MembershipChanged>;

export const membershipSubject = (prefix = '') => `${prefix}ledger.membership`;
export const membershipChangedSubject = (prefix = '') => `${prefix}ledger.membership.changed`;
