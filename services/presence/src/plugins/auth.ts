import { bearerToken, createTokenVerifier, type VerifierOptions } from '@crowncast/auth';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: a valid user JWT; sets request.userId. */
    authenticate: (req: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    userId: string;
  }
}

export default fp<{ verifier: VerifierOptions }>(
  async (app, opts) => {
    const verify = createTokenVerifier(opts.verifier);
    app.decorateRequest('userId', '');
    app.decorate('authenticate', async (req: FastifyRequest) => {
      const { userId } = await verify(bearerToken(req.headers.authorization));
      req.userId = userId;
    });
  },
  { name: 'auth' },
);
