import { signDevToken } from '@crowncast/auth';
import type { Plugin } from 'vite';

/** The demo's users: the ones `pnpm start` seeds (services/ledger/src/db/seed.ts). */
const USER = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * `GET /dev/token?user=alice` → `{ token }`, signed with JWT_SECRET. A stand-in for the host app's
 * sign-in, so the demo can be tried as any seeded user. It lives in the dev server only
 * (`configureServer` does not run for `vite build`), so no secret ever reaches a browser bundle.
 */
export function devTokenPlugin(secret: string): Plugin {
  return {
    name: 'crowncast-dev-token',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use('/dev/token', (req, res) => {
        const user = new URL(req.url ?? '', 'http://x').searchParams.get('user') ?? '';
        res.setHeader('content-type', 'application/json');
        res.setHeader('cache-control', 'no-store');
        if (!USER.test(user)) {
          res.statusCode = 400;
          res.end(
            JSON.stringify({ error: { code: 'DEMO_BAD_USER', message: 'user must be an id like alice' } }),
          );
          return;
        }
        signDevToken({ secret, sub: user, expiresInSec: 3600 }).then(
          (token) => res.end(JSON.stringify({ token, expiresInSec: 3600 })),
          (err: Error) => {
            res.statusCode = 500;
            res.end(JSON.stringify({ error: { code: 'DEMO_TOKEN_FAILED', message: err.message } }));
          },
        );
      });
    },
  };
}
