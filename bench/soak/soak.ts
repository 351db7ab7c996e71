import { cleanup, isolation } from '@crowncast/testkit';
import { seedWorld, worldNames } from '../../tests/lib/admin.js';
import { Gifter } from '../../tests/lib/gifter.js';
import { Member } from '../../tests/lib/member.js';
import { Stack, sleep, waitFor } from '../../tests/lib/stack.js';
import { settle, verify, violations } from '../../tests/lib/verify.js';
import { pct, redisKeyCount, redisKeyKinds, scrape } from './probes.js';

export interface SoakOptions {
  seconds: number;
  /** Samples taken (windows); the first is the baseline after warm-up. */
  windows: number;
  clubs: number;
  perClub: number;
  ratePerSec: number;
  /** Member sockets closed per second on purpose (each comes back and resumes). */
  churnPerSec: number;
  /** Extra presence settings (the CI version shortens TOMBSTONE_MS so tombstones plateau in time). */
  presenceEnv?: Record<string, string>;
  log?: (line: string) => void;
}

export interface SoakWindow {
  t_s: number;
  gifts: number;
  delivery_p99_ms: number;
  rss_mb: Record<string, number>;
  eld_p99_ms: Record<string, number>;
  edge_connections: number;
  edge_rooms: number;
  redis_keys: number;
  redis_key_kinds: Record<string, number>;
  reconnects: number;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/**
 * A steady gift load over the whole stack (ledger, two edges, presence) while member sockets churn:
 * every window samples each service's RSS and event-loop delay, the edges' connections and rooms
 * (= live NATS subscriptions), the isolation's Redis keys and the members' delivery p99. At the end
 * every member leaves: the edges must drop back to zero connections and rooms, and every promise of
 * the chaos verifier (nothing lost, nothing twice, crowns kept) must hold.
 */
export async function runSoak(o: SoakOptions) {
  const iso = isolation();
  const stack = new Stack(iso, {
    edges: 2,
    presence: true,
    edgeEnv: { WS_MAX_CONNECTIONS_PER_USER: '10' },
    ...(o.presenceEnv ? { presenceEnv: o.presenceEnv } : {}),
  });
  const members: Member[] = [];
  const windows: SoakWindow[] = [];
  const log = o.log ?? (() => {});
  try {
    await stack.start();
    const world = worldNames(`s${iso.id}`, o.clubs, o.perClub);
    await seedWorld(stack.ledger.url, world, 1_000_000);
    const idle = await edgeTotals(stack);
    for (const [c, ms] of world.members.entries()) {
      for (const [k, u] of ms.entries()) {
        const club = world.clubs[c] as string;
        members.push(new Member(u, club, () => stack.edgeUrls(), { pick: k, sampleLatency: true }));
      }
    }
    await Promise.all(members.map((m) => m.start()));
    if (!(await waitFor(() => members.every((m) => m.joined), 30_000)))
      throw new Error('members did not join');
    const gifter = new Gifter(world, () => stack.ledger.url, { ratePerSec: o.ratePerSec });
    await gifter.prepare();
    gifter.start();
    const churn = setInterval(() => {
      for (let i = 0; i < o.churnPerSec; i++) members[Math.floor(Math.random() * members.length)]?.churn();
    }, 1000);
    const t0 = performance.now();
    const every = (o.seconds * 1000) / o.windows;
    let sent = 0;
    for (let w = 1; w <= o.windows; w++) {
      await sleep(Math.max(0, t0 + w * every - performance.now()));
      const lat = members.flatMap((m) => m.latencies.splice(0));
      const services = stack.services();
      const samples = await Promise.all(
        services.map(({ svc }) => scrape(svc.url, ['crowncast_edge_connections', 'crowncast_edge_rooms'])),
      );
      const edges = samples.filter((_, i) => services[i]?.name.startsWith('edge'));
      const win: SoakWindow = {
        t_s: Math.round((performance.now() - t0) / 1000),
        gifts: gifter.gifts.length - sent,
        delivery_p99_ms: pct(lat, 0.99),
        rss_mb: Object.fromEntries(
          services.map(({ name }, i) => [name, r1(samples[i]?.rssMb ?? Number.NaN)]),
        ),
        eld_p99_ms: Object.fromEntries(
          services.map(({ name }, i) => [name, r1(samples[i]?.eldP99Ms ?? Number.NaN)]),
        ),
        edge_connections: edges.reduce((a, s) => a + (s.gauges.crowncast_edge_connections ?? 0), 0),
        edge_rooms: edges.reduce((a, s) => a + (s.gauges.crowncast_edge_rooms ?? 0), 0),
        redis_keys: await redisKeyCount(iso.redisPrefix),
        redis_key_kinds: await redisKeyKinds(iso.redisPrefix),
        reconnects: members.reduce((a, m) => a + m.reconnects, 0),
      };
      sent = gifter.gifts.length;
      windows.push(win);
      log(JSON.stringify(win));
    }
    clearInterval(churn);
    await gifter.stop();
    await settle(iso, members);
    const v = await verify(iso, stack.ledger.url, gifter, members);
    await Promise.all(members.map((m) => m.stop()));
    // Every member gone: back to the idle edges' connections and rooms (no leaked subscription).
    await waitFor(async () => (await edgeTotals(stack)).rooms === idle.rooms, 15_000, 200);
    const after = await edgeTotals(stack);
    const duplicates = members.flatMap((m) =>
      m.duplicateDetails.map((d) => ({ member: m.userId, room: m.room, ...d })),
    );
    return { windows, verdict: v, problems: violations(v), idle, after, duplicates };
  } finally {
    await Promise.all(members.map((m) => m.stop()));
    await stack.stop();
    await cleanup(iso).catch(() => {});
  }
}

async function edgeTotals(stack: Stack): Promise<{ connections: number; rooms: number }> {
  const s = await Promise.all(
    stack.edgeUrls().map((u) => scrape(u, ['crowncast_edge_connections', 'crowncast_edge_rooms'])),
  );
  return {
    connections: s.reduce((a, x) => a + (x.gauges.crowncast_edge_connections ?? 0), 0),
    rooms: s.reduce((a, x) => a + (x.gauges.crowncast_edge_rooms ?? 0), 0),
  };
}
