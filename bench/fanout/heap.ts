import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '@crowncast/testkit';
import { ClientPool } from './client-pool.js';
import { readConfig } from './config.js';
import { ensureFdLimit } from './fd-limit.js';
import { sleep } from './publisher.js';
import { round } from './stats.js';
import { startCrowncast } from './targets/crowncast.js';
import { startRawWs } from './targets/raw-ws.js';
import type { Target, TargetName } from './targets/target.js';

/**
 * pnpm bench:heap — the live heap a connection costs, by kind of object: a heap snapshot of the server
 * before any client and one once BENCH_CONNECTIONS sockets are in the big room (V8 collects garbage
 * before each snapshot), diffed by node type and name. Unlike RSS growth, which moves by kilobytes
 * with when V8 last collected, the same code gives the same figure; it is where RSS per connection
 * can be cut. Targets: BENCH_TARGETS (crowncast and raw_ws; Socket.IO is not measured here).
 * Writes bench/results/heap.json; BENCH_HEAP_KEEP=1 keeps the snapshots.
 */
const cfg = readConfig();
ensureFdLimit(cfg.connections + 2_048);
const dir = mkdtempSync(join(tmpdir(), 'crowncast-heap-'));
// Every process this run starts inherits the preload; only the signalled server writes a snapshot.
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${fileURLToPath(new URL('./heap-snapshot.cjs', import.meta.url))}`;
process.env.HEAP_SNAPSHOT_DIR = dir;

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Bytes of live heap per kind of object (node type and name; strings and numbers by type only). */
function bytesByKind(file: string): Map<string, { bytes: number; count: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [t, n, s] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + t] as number] as string;
    const named = !/string|number/.test(type);
    const name = named ? (snap.strings[snap.nodes[i + n] as number] as string).slice(0, 50) : '';
    const key = `${type} ${name.replace(/\d+/g, 'N')}`.trim();
    const e = out.get(key) ?? { bytes: 0, count: 0 };
    e.bytes += snap.nodes[i + s] as number;
    e.count++;
    out.set(key, e);
  }
  return out;
}

async function snapshot(pid: number): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  for (;;) {
    const done = readdirSync(dir).find(
      (f) => f.startsWith(`${pid}-`) && f.endsWith('.done') && !before.has(f),
    );
    if (done) return join(dir, done.replace(/\.done$/, '.heapsnapshot'));
    if (Date.now() > deadline) throw new Error(`no heap snapshot from pid ${pid} in 120 s`);
    await sleep(200);
  }
}

interface Row {
  kind: string;
  bytes_per_conn: number;
  per_conn: number;
}

async function measure(name: TargetName): Promise<{ live_kb_per_conn: number; top: Row[] }> {
  const target: Target = name === 'raw_ws' ? await startRawWs() : await startCrowncast();
  const pool = await ClientPool.start(cfg.clientProcs);
  try {
    await target.prepare(cfg.connections, 1);
    await sleep(1_000);
    const idle = bytesByKind(await snapshot(target.pid));
    const r = await pool.connect(cfg.connections, {
      kind: target.kind,
      url: target.url,
      spreadMs: cfg.connections, // 1,000 a second, as the big room's setup
      timeoutMs: 30_000,
      retries: 3,
      rooms: 0,
      roomPrefix: target.roomPrefix,
      userPrefix: target.userPrefix,
      sampleEvery: cfg.sampleEvery,
    });
    if (r.connected < cfg.connections) throw new Error(`only ${r.connected} of ${cfg.connections} got in`);
    await sleep(2_000);
    const full = bytesByKind(await snapshot(target.pid));
    let total = 0;
    const rows: Row[] = [];
    for (const [kind, e] of full) {
      const before = idle.get(kind) ?? { bytes: 0, count: 0 };
      const bytes = e.bytes - before.bytes;
      total += bytes;
      rows.push({
        kind,
        bytes_per_conn: round(bytes / r.connected, 0),
        per_conn: round((e.count - before.count) / r.connected, 2),
      });
    }
    rows.sort((a, b) => b.bytes_per_conn - a.bytes_per_conn);
    return { live_kb_per_conn: round(total / r.connected / 1024, 2), top: rows.slice(0, 25) };
  } finally {
    pool.stop();
    await target.stop();
  }
}

const result: Record<string, unknown> = { connections: cfg.connections, date: new Date().toISOString() };
try {
  for (const name of cfg.targets.filter((t) => t !== 'socketio')) {
    console.log(`\n== ${name}`);
    const m = await measure(name);
    result[name] = m;
    console.log(`live heap per connection: ${m.live_kb_per_conn} KB`);
    console.table(m.top.slice(0, 15));
  }
} finally {
  // BENCH_HEAP_KEEP=1 leaves the snapshots for a closer look (Chrome DevTools, Memory tab).
  if (process.env.BENCH_HEAP_KEEP === '1') console.log(`snapshots kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
const file = join(REPO_ROOT, 'bench', 'results', 'heap.json');
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${file}`);
process.exit(0);
