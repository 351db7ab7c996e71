import {
  ErrorBody,
  ok,
  PresenceOnlineCount,
  PresenceRoom,
  PresenceRoomParams,
  PresenceRoomQuery,
  PresenceUser,
  PresenceUserParams,
  PresenceUsersBatch,
  PresenceUsersBatchBody,
} from '@crowncast/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { PresenceStore } from '../store/presence-store.js';

const errorResponses = { '4xx': ErrorBody, '5xx': ErrorBody } as const;
const security = [{ bearerAuth: [] }];

/** Who is online: any signed-in user may ask (presence is what the apps show as badges). */
export const presenceRoutes: FastifyPluginAsyncZod<{ store: PresenceStore }> = async (app, { store }) => {
  app.get('/presence/users/:userId', {
    schema: {
      tags: ['presence'],
      summary: "A user's status, devices and last-seen time",
      security,
      params: PresenceUserParams,
      response: { 200: ok(PresenceUser), ...errorResponses },
    },
    preHandler: app.authenticate,
    handler: async (req) => {
      const [user] = await store.users([req.params.userId]);
      return { success: true as const, data: user! };
    },
  });

  // "::" is Fastify's escape for a literal colon in a path.
  app.post('/presence/users::batch', {
    schema: {
      tags: ['presence'],
      summary: 'Many users at once (up to 500)',
      security,
      body: PresenceUsersBatchBody,
      response: { 200: ok(PresenceUsersBatch), ...errorResponses },
    },
    preHandler: app.authenticate,
    handler: async (req) => {
      const ids = [...new Set(req.body.userIds)];
      return { success: true as const, data: { users: await store.users(ids) } };
    },
  });

  app.get('/presence/rooms/:room', {
    schema: {
      tags: ['presence'],
      summary: 'Online count and members of a room (club:<id> or game:<id>), paginated',
      security,
      params: PresenceRoomParams,
      querystring: PresenceRoomQuery,
      response: { 200: ok(PresenceRoom), ...errorResponses },
    },
    preHandler: app.authenticate,
    handler: async (req) => {
      const { limit, cursor } = req.query;
      return { success: true as const, data: await store.room(req.params.room, limit, cursor) };
    },
  });

  app.get('/presence/online/count', {
    schema: {
      tags: ['presence'],
      summary: 'Users with at least one connection',
      security,
      response: { 200: ok(PresenceOnlineCount), ...errorResponses },
    },
    preHandler: app.authenticate,
    handler: async () => ({ success: true as const, data: { online: await store.onlineCount() } }),
  });
};
