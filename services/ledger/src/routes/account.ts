import {
  ClubEvent,
  ClubThreshold,
  MarkReadBody,
  Notification,
  NotificationsQuery,
  ok,
  Page,
  Wallet,
} from '@crowncast/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { activeEvents, assertMember, threshold, wallet } from '../clubs/reads.js';
import { claimFor, readKey, withIdempotency } from '../idempotency.js';
import { listNotifications, markRead } from '../notifications/store.js';
import { bearer, errorResponses, IdempotencyHeaders } from './schemas.js';

const ClubParams = z.object({ clubId: z.string().max(64) });

/** What a signed-in user reads about themselves and their clubs. */
export const accountRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/wallet', {
    schema: {
      tags: ['wallet'],
      summary: 'Your crown balance',
      security: bearer,
      response: { 200: ok(Wallet), ...errorResponses },
    },
    preHandler: app.authenticate,
    handler: async (req) => ({ success: true as const, data: await wallet(app.sql, req.userId) }),
  });

  app.get('/clubs/:clubId/threshold', {
    schema: {
      tags: ['clubs'],
      summary: "The club's threshold bar",
      security: bearer,
      params: ClubParams,
      response: { 200: ok(ClubThreshold), ...errorResponses },
    },
    preHandler: app.authenticate,
    handler: async (req) => {
      await assertMember(app.sql, req.params.clubId, req.userId);
      return { success: true as const, data: await threshold(app.sql, req.params.clubId) };
    },
  });

  app.get('/clubs/:clubId/events/active', {
    schema: {
      tags: ['clubs'],
      summary: "The club's running events with progress and top contributors",
      security: bearer,
      params: ClubParams,
      response: { 200: ok(z.array(ClubEvent)), ...errorResponses },
    },
    preHandler: app.authenticate,
    handler: async (req) => {
      await assertMember(app.sql, req.params.clubId, req.userId);
      return { success: true as const, data: await activeEvents(app.sql, req.params.clubId) };
    },
  });

  app.get('/notifications', {
    schema: {
      tags: ['notifications'],
      summary: 'Your notifications, unread first',
      security: bearer,
      querystring: NotificationsQuery,
      response: { 200: ok(Page(Notification)), ...errorResponses },
    },
    preHandler: app.authenticate,
    handler: async (req) => ({
      success: true as const,
      data: await listNotifications(app.sql, req.userId, req.query.limit, req.query.cursor),
    }),
  });

  app.put('/notifications/read', {
    schema: {
      tags: ['notifications'],
      summary: 'Mark notifications read (some ids, or all)',
      security: bearer,
      headers: IdempotencyHeaders,
      body: MarkReadBody,
      response: { 200: ok(z.object({ marked: z.number().int() })), ...errorResponses },
    },
    preHandler: app.authenticate,
    handler: async (req, reply) => {
      const claim = claimFor(
        `user:${req.userId}`,
        readKey(req.headers['idempotency-key']),
        'notifications.read',
        req.body,
      );
      const answer = await withIdempotency(app.sql, claim, async (tx) => ({
        status: 200,
        body: { success: true, data: { marked: await markRead(tx as never, req.userId, req.body) } },
      }));
      return reply.status(answer.status).send(answer.body as never);
    },
  });
};
