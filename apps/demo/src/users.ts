/** The people `pnpm start` seeds (services/ledger/src/db/seed.ts); Erin is not in the club. */
export const DEMO_USERS = [
  { id: 'alice', name: 'Alice' },
  { id: 'bob', name: 'Bob' },
  { id: 'carol', name: 'Carol' },
  { id: 'dave', name: 'Dave' },
  { id: 'erin', name: 'Erin' },
] as const;

export const DEMO_CLUB = 'club_demo';

/**
 * Tokens come from the demo dev server's `/dev/token` (see scripts/dev-token.ts); a real app gets
 * them from its own sign-in. Cached until a minute before expiry, since the SDK asks at every
 * (re)connect and the REST helper at every call.
 */
export function tokenSource(userId: string): () => Promise<string> {
  let cached: { token: string; until: number } | null = null;
  return async () => {
    if (cached && Date.now() < cached.until) return cached.token;
    const res = await fetch(`/dev/token?user=${encodeURIComponent(userId)}`);
    if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
    const body = (await res.json()) as { token: string; expiresInSec: number };
    cached = { token: body.token, until: Date.now() + (body.expiresInSec - 60) * 1000 };
    return body.token;
  };
}
