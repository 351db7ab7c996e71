import type { Member } from '../lib/member.js';
import { rng } from './rest-cases.js';
import { moneySnapshot } from './rest-fuzz.js';
import { Tally, WS_CLASSES } from './ws-classes.js';
import { edgeMetric, edgeRssMb, FuzzWorld, sleep, waitFor } from './ws-world.js';

export interface WsFuzzRow {
  class: string;
  cases: number;
  outcomes: Record<string, number>;
  /** 1011 closes and failed readiness probes during the class (the WebSocket 5xx). */
  status_5xx: number;
  crowns_moved: number;
  undocumented: string[];
}

export interface WsFuzzFigures {
  rssBeforeMb: number;
  rssPeakMb: number;
  rssAfterMb: number;
  connectionsBefore: number;
  connectionsAfter: number;
  roomsBefore: number;
  roomsAfter: number;
  readinessSamples: number;
  readinessFailures: number;
  edgeExited: boolean;
  bystander: {
    published: number;
    missing: number;
    duplicates: number;
    gaps: number;
    closes: number;
    closeCodes: Record<string, number>;
  };
}

const HOSTILE_USERS = [
  'noise',
  'binary',
  'raw',
  'big',
  'flood',
  'intruder',
  'hoarder',
  'loris',
  'fresh',
  'sloth',
  'mallory',
];

/**
 * Every WebSocket abuse class in turn against one real edge (plus the ledger for membership),
 * while a well-behaved member of clubA keeps receiving valid events. Returns one row per class
 * and the edge's figures (RSS, connections and rooms before/after, readiness, the bystander).
 */
export async function runWsFuzz(
  scale = 1,
  seed = Number(process.env.FUZZ_SEED ?? 1),
  only?: string[],
  holdMs = 4000,
): Promise<{ rows: WsFuzzRow[]; figures: WsFuzzFigures }> {
  const w = new FuzzWorld(1);
  const rows: WsFuzzRow[] = [];
  try {
    await w.start(HOSTILE_USERS);
    const url = w.edgeUrl();
    const edgePid = w.stack.edges[0]?.proc;
    await sleep(500);
    const before = {
      rss: await edgeRssMb(url),
      conns: await edgeMetric(url, 'crowncast_edge_connections'),
      rooms: await edgeMetric(url, 'crowncast_edge_rooms'),
    };
    w.startBackground();
    const rand = rng(seed);
    for (const [name, run] of Object.entries(WS_CLASSES)) {
      if (only && !only.includes(name)) continue;
      const t = new Tally();
      const money = await moneySnapshot(w.iso.schema);
      const notReady = w.health.notReady;
      await run({ w, rand, scale, t, holdMs });
      const after = await moneySnapshot(w.iso.schema);
      rows.push({
        class: `WS: ${name}`,
        cases: t.cases,
        outcomes: t.outcomes,
        status_5xx: t.serverErrors + (w.health.notReady - notReady),
        crowns_moved: after.sum - money.sum || after.n - money.n,
        undocumented: t.findings,
      });
    }
    await w.stopBackground();
    const missing = await w.bystanderMissing();
    // Abusers are gone: the edge must be back to the bystander's connection and rooms.
    await waitFor(async () => (await edgeMetric(url, 'crowncast_edge_connections')) === before.conns, 10_000);
    await sleep(1000);
    const b: Member = w.bystander;
    const figures: WsFuzzFigures = {
      rssBeforeMb: round(before.rss),
      rssPeakMb: round(w.health.rssPeakMb),
      rssAfterMb: round(await edgeRssMb(url)),
      connectionsBefore: before.conns,
      connectionsAfter: await edgeMetric(url, 'crowncast_edge_connections'),
      roomsBefore: before.rooms,
      roomsAfter: await edgeMetric(url, 'crowncast_edge_rooms'),
      readinessSamples: w.health.samples,
      readinessFailures: w.health.notReady,
      edgeExited: edgePid?.exitCode !== null,
      bystander: {
        published: w.published.length,
        missing,
        duplicates: b.duplicates,
        gaps: b.gaps,
        closes: Object.values(b.closeCodes).reduce((s, n) => s + n, 0),
        closeCodes: { ...b.closeCodes },
      },
    };
    return { rows, figures };
  } finally {
    await w.stop();
  }
}

const round = (x: number) => Math.round(x * 10) / 10;
