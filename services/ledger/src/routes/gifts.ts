import {
  Gift,
  GiftHistoryQuery,
  GiftTransaction,
  ok,
  Page,
  RecentGiftsQuery,
  SendClubGiftBody,
  SendGameGiftBody,
  SendGiftBody,
  SendGiftResult,
} from '@crowncast/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GiftRequest, GiftTarget } from '../domain/gift-rules.js';
import { catalog, history, recentClubGifts } from '../gifts/reads.js';
import type { GiftService } from '../gifts/service.js';
import { readKey } from '../idempotency.js';
import { bearer, errorResponses, IdempotencyHeaders } from './schemas.js';

const sendResponses = { 200: ok(SendGiftResult), ...errorResponses };

export const giftRoutes: FastifyPluginAsyncZod<{ gifts: GiftService }> = async (app, { gifts }) => {
  const send = async (
    userId: string,
    body: { giftId: string; quantity: number; message?: string | undefined },
    target: GiftTarget,
    key: string | string[] | undefined,
  ) => {
    const req: GiftRequest = {
      senderId: userId,
      giftId: body.giftId,
      target,
      quantity: body.quantity,
      message: body.message,
    };
    return gifts.send(req, readKey(key));
  };

  app.post('/gifts/send', {
    schema: {
      tags: ['gifts'],
      summary: 'Send a gift to a user, a club or a game',
      security: bearer,
      headers: IdempotencyHeaders,
      body: SendGiftBody,
      response: sendResponses,
    },
    preHandler: app.authenticate,
    handler: async (req, reply) => {
      const b = req.body;
      const target: GiftTarget =
        b.recipientType === 'user'
          ? { type: 'user', userId: b.recipientId }
          : b.recipientType === 'club'
            ? { type: 'club', clubId: b.recipientId }
            : { type: 'game', gameId: b.recipientId };
      const answer = await send(req.userId, b, target, req.headers['idempotency-key']);
      return reply.status(answer.status).send(answer.body as never);
    },
  });

  app.post('/clubs/:clubId/gifts/send', {
    schema: {
      tags: ['gifts'],
      summary: 'Send a gift in a club room',
      security: bearer,
      headers: IdempotencyHeaders,
      params: z.object({ clubId: z.string().max(64) }),
      body: SendClubGiftBody,
      response: sendResponses,
    },
    preHandler: app.authenticate,
    handler: async (req, reply) => {
      const answer = await send(
        req.userId,
        req.body,
        { type: 'club', clubId: req.params.clubId },
        req.headers['idempotency-key'],
      );
      return reply.status(answer.status).send(answer.body as never);
    },
  });

  app.post('/games/:gameId/gifts/send', {
    schema: {
      tags: ['gifts'],
      summary: 'Send a gift in a game room, optionally to one player',
      security: bearer,
      headers: IdempotencyHeaders,
      params: z.object({ gameId: z.string().max(64) }),
      body: SendGameGiftBody,
      response: sendResponses,
    },
    preHandler: app.authenticate,
    handler: async (req, reply) => {
      const target: GiftTarget = {
        type: 'game',
        gameId: req.params.gameId,
        playerId: req.body.recipientUserId,
      };
      const answer = await send(req.userId, req.body, target, req.headers['idempotency-key']);
      return reply.status(answer.status).send(answer.body as never);
    },
  });

  app.get('/gifts', {
    schema: {
      tags: ['gifts'],
      summary: 'The gift catalog',
      security: bearer,
      response: { 200: ok(z.array(Gift)), ...errorResponses },
    },
    preHandler: app.authenticate,
    handler: async () => ({ success: true as const, data: await catalog(app.sql) }),
  });

  app.get('/gifts/history', {
    schema: {
      tags: ['gifts'],
      summary: 'Gifts you sent and received, newest first',
      security: bearer,
      querystring: GiftHistoryQuery,
      response: { 200: ok(Page(GiftTransaction)), ...errorResponses },
    },
    preHandler: app.authenticate,
    handler: async (req) => ({ success: true as const, data: await history(app.sql, req.userId, req.query) }),
  });

  app.get('/clubs/:clubId/gifts/recent', {
    schema: {
      tags: ['clubs'],
      summary: "A club's recent gifts (fallback while the socket is down)",
      security: bearer,
      params: z.object({ clubId: z.string().max(64) }),
      querystring: RecentGiftsQuery,
      response: { 200: ok(z.array(GiftTransaction)), ...errorResponses },
    },
    preHandler: app.authenticate,
    handler: async (req) => ({
      success: true as const,
      data: await recentClubGifts(app.sql, req.userId, req.params.clubId, req.query.limit),
    }),
  });
};
