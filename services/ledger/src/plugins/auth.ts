import { timingSafeEqual } from 'node:crypto';
import { bearerToken, createTokenVerifier, type VerifierOptions } from '@crowncast/auth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LedgerError } from '../domain/errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: a valid user JWT; sets request.userId. */
    authenticate: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** preHandler: the admin credential. */
    authenticateAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
  interface FastifyRequest {
    userId: string;
  }
}

export default fp<{ verifier: VerifierOptions; adminToken: string }>(
  async (app, opts) => {
    const verify = createTokenVerifier(opts.verifier);
    const admin = Buffer.from(opts.adminToken);
    app.decorateRequest('userId', '');
    app.decorate('authenticate', async (req: FastifyRequest) => {
      const { userId } = await verify(bearerToken(req.headers.authorization));
      req.userId = userId;
    });
    app.decorate('authenticateAdmin', async (req: FastifyRequest) => {
      const given = Buffer.from(
        String(req.headers['x-admin-token'] ?? bearerToken(req.headers.authorization) ?? ''),
      );
      if (given.length !== admin.length || !timingSafeEqual(given, admin)) {
        throw new LedgerError(401, 'LEDGER_ADMIN_UNAUTHORIZED', 'the admin API needs the admin credential');
      }
      req.userId = 'admin';
    });
  },
  { name: 'auth' },
);
