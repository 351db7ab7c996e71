import {
  CreateClubEventBody,
  GrantBody,
  GrantResult,
  Id,
  LedgerAudit,
  ok,
  ThresholdLevelsBody,
  UpsertClubBody,
  UpsertGameBody,
  UpsertGiftBody,
  UpsertUserBody,
} from '@crowncast/protocol';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { TransactionSql } from 'postgres';
import { z } from 'zod';
import * as ops from '../admin/ops.js';
import { type Answer, claimFor, readKey, withIdempotency } from '../idempotency.js';
import { adminAuth, errorResponses, IdempotencyHeaders } from './schemas.js';

const Any = ok(z.record(z.string(), z.unknown()));
const responses = { 200: Any, ...errorResponses };

/**
 * The admin/internal API for what the host app owns (users, purchases, clubs, games, events). It
 * takes the admin credential, never a user token. Every mutation honours Idempotency-Key.
 */
export const adminRoutes: FastifyPluginAsyncZod<{
  notifyChannel: string;
  onMembershipChange: (room: string, userId: string, member: boolean) => void;
}> = async (app, { notifyChannel, onMembershipChange }) => {
  app.addHook('preHandler', app.authenticateAdmin);

  const mutate = async (
    reply: FastifyReply,
    headers: Record<string, unknown>,
    operation: string,
    request: unknown,
    fn: (tx: TransactionSql) => Promise<unknown>,
  ) => {
    const claim = claimFor(
      'admin',
      readKey(headers['idempotency-key'] as string | undefined),
      operation,
      request,
    );
    const answer: Answer = await withIdempotency(app.sql, claim, async (tx) => ({
      status: 200,
      body: { success: true, data: await fn(tx) },
    }));
    return reply.status(answer.status).send(answer.body as never);
  };
  const base = (summary: string) => ({
    tags: ['admin'],
    summary,
    security: adminAuth,
    headers: IdempotencyHeaders,
    response: responses,
  });
  const U = z.object({ userId: Id });
  const C = z.object({ clubId: Id });
  const G = z.object({ gameId: Id });

  app.put(
    '/admin/users/:userId',
    { schema: { ...base('Create or update a user (id = JWT sub)'), params: U, body: UpsertUserBody } },
    (req, reply) =>
      mutate(reply, req.headers, 'user.upsert', [req.params, req.body], (tx) =>
        ops.upsertUser(tx, req.params.userId, req.body),
      ),
  );
  app.post(
    '/admin/users/:userId/grants',
    {
      schema: {
        ...base('Grant crowns to a user (a purchase)'),
        params: U,
        body: GrantBody,
        response: { 200: ok(GrantResult), ...errorResponses },
      },
    },
    (req, reply) =>
      mutate(reply, req.headers, 'user.grant', [req.params, req.body], (tx) =>
        ops.grant(tx, req.params.userId, req.body.amount, req.body.reason, notifyChannel),
      ),
  );
  app.put(
    '/admin/clubs/:clubId',
    { schema: { ...base('Create or update a club'), params: C, body: UpsertClubBody } },
    (req, reply) =>
      mutate(reply, req.headers, 'club.upsert', [req.params, req.body], (tx) =>
        ops.upsertClub(tx, req.params.clubId, req.body),
      ),
  );
  for (const member of [true, false]) {
    const method = member ? 'put' : 'delete';
    app[method](
      '/admin/clubs/:clubId/members/:userId',
      {
        schema: { ...base(member ? 'Add a club member' : 'Remove a club member'), params: C.extend(U.shape) },
      },
      async (req, reply) => {
        const sent = await mutate(reply, req.headers, `club.member.${member}`, req.params, (tx) =>
          ops.setMembership(tx, 'club', req.params.clubId, req.params.userId, member),
        );
        onMembershipChange(`club:${req.params.clubId}`, req.params.userId, member);
        return sent;
      },
    );
    app[method](
      '/admin/games/:gameId/players/:userId',
      {
        schema: { ...base(member ? 'Add a game player' : 'Remove a game player'), params: G.extend(U.shape) },
      },
      async (req, reply) => {
        const sent = await mutate(reply, req.headers, `game.player.${member}`, req.params, (tx) =>
          ops.setMembership(tx, 'game', req.params.gameId, req.params.userId, member),
        );
        onMembershipChange(`game:${req.params.gameId}`, req.params.userId, member);
        return sent;
      },
    );
  }
  app.put(
    '/admin/games/:gameId',
    { schema: { ...base('Create or update a game'), params: G, body: UpsertGameBody } },
    (req, reply) =>
      mutate(reply, req.headers, 'game.upsert', [req.params, req.body], (tx) =>
        ops.upsertGame(tx, req.params.gameId, req.body),
      ),
  );
  app.put(
    '/admin/clubs/:clubId/threshold-levels',
    { schema: { ...base("Set a club's threshold levels"), params: C, body: ThresholdLevelsBody } },
    (req, reply) =>
      mutate(reply, req.headers, 'club.levels', [req.params, req.body], (tx) =>
        ops.setThresholdLevels(tx, req.params.clubId, req.body.levels),
      ),
  );
  app.post(
    '/admin/clubs/:clubId/events',
    { schema: { ...base('Create a time-bound club event'), params: C, body: CreateClubEventBody } },
    (req, reply) =>
      mutate(reply, req.headers, 'club.event', [req.params, req.body], (tx) =>
        ops.createClubEvent(tx, req.params.clubId, req.body),
      ),
  );
  app.put(
    '/admin/gifts/:giftId',
    {
      schema: {
        ...base('Create or update a catalog gift'),
        params: z.object({ giftId: Id }),
        body: UpsertGiftBody,
      },
    },
    (req, reply) =>
      mutate(reply, req.headers, 'gift.upsert', [req.params, req.body], (tx) =>
        ops.upsertGift(tx, req.params.giftId, req.body),
      ),
  );
  app.get(
    '/admin/audit',
    {
      schema: {
        tags: ['admin'],
        summary: 'The money invariants',
        security: adminAuth,
        response: { 200: ok(LedgerAudit), ...errorResponses },
      },
    },
    async () => ({
      success: true as const,
      data: await app.sql.begin((tx) => ops.audit(tx)),
    }),
  );
};
