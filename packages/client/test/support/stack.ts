import {
  cleanup,
  type Isolation,
  isolation,
  ledgerApi,
  type RunningService,
  serviceEnv,
  spawnService,
  tokenFor,
} from '@crowncast/testkit';

/** The demo world's people, club and a few gifts (prices in crowns). */
export const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;
export const CLUB = 'club_demo';
export const GIFTS = [
  { id: 'gift_rose', name: 'Rose', icon: '🌹', rarity: 'common', price: 20 },
  { id: 'gift_heart', name: 'Heart', icon: '❤️', rarity: 'common', price: 30 },
  { id: 'gift_star', name: 'Star', icon: '⭐', rarity: 'common', price: 50 },
  { id: 'gift_crown', name: 'Crown', icon: '👑', rarity: 'rare', price: 150 },
  { id: 'gift_dragon', name: 'Golden Dragon', icon: '🐉', rarity: 'legendary', price: 10_000 },
] as const;

export interface Stack {
  iso: Isolation;
  ledger: RunningService;
  edge: RunningService;
  presence?: RunningService;
  /** Starts one more edge on the same subjects (e.g. to reconnect to while one drains). */
  startEdge(): Promise<RunningService>;
  token(userId: string, expiresInSec?: number): Promise<string>;
  admin(method: string, path: string, body?: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * Real ledger + edge (+ presence) processes on free ports, isolated by schema, subject prefix, stream
 * and Redis prefix, seeded through the ledger's admin API as a host app would.
 */
export async function startStack(
  opts: { presence?: boolean; edgeEnv?: Record<string, string> } = {},
): Promise<Stack> {
  const iso = isolation();
  const ledger = await spawnService(
    'services/ledger/src/server.ts',
    serviceEnv(iso, { RELAY_POLL_MS: '50', GIFT_RATE_LIMIT_PER_MIN: '1000', GIFT_SPAM_SAME_PER_MIN: '1000' }),
  );
  const edges: RunningService[] = [];
  const startEdge = async () => {
    const e = await spawnService(
      'services/edge/src/server.ts',
      serviceEnv(iso, {
        LOG_LEVEL: 'info',
        DRAIN_SPREAD_MS: '300',
        PRESENCE_INTERVAL_MS: '500',
        ...opts.edgeEnv,
      }),
    );
    edges.push(e);
    return e;
  };
  const [edge, presence] = await Promise.all([
    startEdge(),
    opts.presence
      ? spawnService('services/presence/src/server.ts', serviceEnv(iso, { LOG_LEVEL: 'info' }))
      : undefined,
  ]);
  const { admin } = ledgerApi(ledger.url);
  await seed(admin);
  return {
    iso,
    ledger,
    edge: edge as RunningService,
    ...(presence ? { presence } : {}),
    startEdge,
    token: (userId, expiresInSec) => tokenFor(userId, expiresInSec ? { expiresInSec } : {}),
    admin,
    async stop() {
      await Promise.all([ledger, ...edges, ...(presence ? [presence] : [])].map((s) => s.stop()));
      await cleanup(iso);
    },
  };
}

async function seed(admin: (method: string, path: string, body?: unknown) => Promise<unknown>) {
  for (const g of GIFTS) {
    await admin('PUT', `/admin/gifts/${g.id}`, {
      name: g.name,
      icon: g.icon,
      category: g.rarity === 'legendary' ? 'ultra' : 'basic',
      rarity: g.rarity,
      price: g.price,
      animationUrl: `/animations/${g.id}.json`,
      audioUrl: `/audio/${g.id}.mp3`,
      animationDurationMs: 3000,
    });
  }
  await admin('PUT', `/admin/clubs/${CLUB}`, { name: 'Dragon Riders' });
  await admin('PUT', `/admin/clubs/${CLUB}/threshold-levels`, {
    levels: [
      { name: 'Bronze', target: 1_000 },
      { name: 'Silver', target: 5_000 },
      { name: 'Gold', target: 20_000 },
    ],
  });
  await admin('POST', `/admin/clubs/${CLUB}/events`, {
    name: 'Weekend Rally',
    goal: 50_000,
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    endsAt: new Date(Date.now() + 2 * 3600_000).toISOString(),
  });
  for (const u of USERS) {
    await admin('PUT', `/admin/users/${u}`, { username: u[0]?.toUpperCase() + u.slice(1) });
    await admin('POST', `/admin/users/${u}/grants`, { amount: 50_000 });
    if (u !== 'erin') await admin('PUT', `/admin/clubs/${CLUB}/members/${u}`);
  }
}
