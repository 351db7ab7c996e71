import { cleanup, type Isolation, isolation } from '@crowncast/testkit';
import { seedWorld, type World, worldNames } from './admin.js';
import { Gifter } from './gifter.js';
import { restartInfra } from './infra.js';
import { Member } from './member.js';
import { Stack, sleep, waitFor } from './stack.js';
import { settle, type Verdict, verify, violations } from './verify.js';

/** One fault: what it does to the running stack. */
export interface Fault {
  name: string;
  inject(stack: Stack, gifter: Gifter): Promise<void>;
}

export const FAULTS: Record<string, Fault> = {
  'edge SIGTERM': {
    name: 'edge SIGTERM',
    async inject(stack) {
      await stack.stopEdge(0, 'SIGTERM');
      await stack.startEdge(0);
    },
  },
  'edge SIGKILL': {
    name: 'edge SIGKILL',
    async inject(stack) {
      await stack.stopEdge(1 % stack.edges.length, 'SIGKILL');
      await stack.startEdge(1 % stack.edges.length);
    },
  },
  'ledger SIGKILL': {
    name: 'ledger SIGKILL',
    async inject(stack, gifter) {
      // Mid-commit: wait until requests are in flight, so some batch is between BEGIN and COMMIT.
      await waitFor(() => gifter.inflightCount() > 0, 5000, 1);
      await stack.restartLedger('SIGKILL');
    },
  },
  'presence SIGKILL': {
    name: 'presence SIGKILL',
    async inject(stack) {
      await stack.restartPresence('SIGKILL');
    },
  },
  'NATS restart': { name: 'NATS restart', inject: () => restartInfra('nats', 1000) },
  'Redis restart': { name: 'Redis restart', inject: () => restartInfra('redis', 1000) },
  'PostgreSQL restart': { name: 'PostgreSQL restart', inject: () => restartInfra('postgres', 1000) },
};

export interface ChaosRow {
  fault: string;
  gifts_sent: number;
  committed: number;
  events_expected: number;
  events_delivered: number;
  events_duplicated: number;
  recovery_s: number;
  gaps_resumed: number;
  statuses: Record<string, number>;
  violations: string[];
}

export interface ChaosOptions {
  clubs: number;
  perClub: number;
  edges: number;
  ratePerSec: number;
  /** Load before the fault and after recovery. */
  beforeMs: number;
  afterMs: number;
  faults: Fault[];
  log?: (line: string) => void;
}

/**
 * Runs the faults one after another against one stack with members connected throughout. Each
 * phase: load starts, the fault is injected, recovery is timed (every service ready and every
 * member back in its room), load continues, then the suite waits for delivery to settle and
 * checks every promise against PostgreSQL, the stream and each member.
 */
export async function runChaos(o: ChaosOptions): Promise<{ rows: ChaosRow[]; setupS: number }> {
  const iso: Isolation = isolation();
  const stack = new Stack(iso, {
    edges: o.edges,
    presence: true,
    edgeEnv: { WS_MAX_CONNECTIONS_PER_USER: '10' },
  });
  const members: Member[] = [];
  const rows: ChaosRow[] = [];
  const log = o.log ?? (() => {});
  let setupS = 0;
  try {
    await stack.start();
    const world: World = worldNames(`k${iso.id}`, o.clubs, o.perClub);
    setupS = await seedWorld(stack.ledger.url, world, 1_000_000);
    for (const [c, ms] of world.members.entries()) {
      for (const [k, u] of ms.entries()) {
        members.push(new Member(u, world.clubs[c] as string, () => stack.edgeUrls(), { pick: k }));
      }
    }
    await Promise.all(members.map((m) => m.start()));
    if (!(await waitFor(() => members.every((m) => m.joined), 30_000)))
      throw new Error('members did not join');
    log(`setup: ${members.length} members in ${o.clubs} rooms, seeded in ${setupS.toFixed(1)} s`);
    let prev: Verdict | null = null;
    for (const fault of o.faults) {
      const gifter = new Gifter(world, () => stack.ledger.url, { ratePerSec: o.ratePerSec });
      await gifter.prepare();
      gifter.start();
      await sleep(o.beforeMs);
      const t0 = performance.now();
      await fault.inject(stack, gifter);
      const recovered = await waitFor(
        async () =>
          stack.crashed().length > 0 ||
          (members.every((m) => m.joined) && (await stack.notReady()).length === 0),
        60_000,
        100,
      );
      const recoveryS = (performance.now() - t0) / 1000;
      const crashed = stack.crashed();
      const exitCodes = crashed.map((n) => {
        const p = stack.services().find((s) => s.name === n)?.svc.proc;
        return `${n} exited (code ${p?.exitCode ?? p?.signalCode}); needed a manual restart`;
      });
      for (const n of crashed) await stack.revive(n);
      await sleep(o.afterMs);
      await gifter.stop();
      await settle(iso, members);
      const v = await verify(iso, stack.ledger.url, gifter, members);
      const problems = violations(v);
      problems.push(...exitCodes);
      if (!recovered && !crashed.length)
        problems.push(`not recovered in 60 s: ${(await stack.notReady()).join(', ')}`);
      rows.push({
        fault: fault.name,
        gifts_sent: v.giftsSent,
        committed: v.committed - (prev?.committed ?? 0),
        events_expected: v.eventsExpected - (prev?.eventsExpected ?? 0),
        events_delivered: v.eventsDelivered - (prev?.eventsDelivered ?? 0),
        events_duplicated: v.eventsDuplicated - (prev?.eventsDuplicated ?? 0),
        recovery_s: Math.round(recoveryS * 100) / 100,
        gaps_resumed: v.gaps - (prev?.gaps ?? 0),
        statuses: v.statuses,
        violations: problems,
      });
      log(`${fault.name}: ${JSON.stringify(rows.at(-1))}`);
      prev = v;
    }
  } finally {
    await Promise.all(members.map((m) => m.stop()));
    await stack.stop();
    await cleanup(iso).catch(() => {});
  }
  return { rows, setupS };
}
