import { tokenFor } from '@crowncast/testkit';
import WebSocket from 'ws';
import type { FromMember, MemberReport, MemberSpec, ToMember } from './ipc.js';

/**
 * One member process: thousands of real club members, each one socket in its club room. Every
 * gift:received event is recorded per socket by id (distinct count, duplicates) and its latency
 * from the event's `ts` (the ledger's commit time) to arrival, reservoir-sampled.
 */
const SAMPLE_CAP = 100_000;
const latencies: number[] = [];
let seenLatencies = 0;
let duplicated = 0;
let dropped = 0;
const sockets: { ws: WebSocket; club: number; ids: Set<string> }[] = [];

function send(m: FromMember): void {
  process.send?.(m);
}

function record(ms: number): void {
  seenLatencies++;
  if (latencies.length < SAMPLE_CAP) latencies.push(ms);
  else {
    const j = Math.floor(Math.random() * seenLatencies);
    if (j < SAMPLE_CAP) latencies[j] = ms;
  }
}

interface Ev {
  type: string;
  id: string;
  ts: string;
}

function onEvent(s: (typeof sockets)[number], e: Ev, now: number): void {
  if (e.type !== 'gift:received') return;
  if (s.ids.has(e.id)) duplicated++;
  else s.ids.add(e.id);
  record(now - Date.parse(e.ts));
}

function openOne(spec: MemberSpec, i: number, token: string): Promise<string | null> {
  const club = i % spec.clubs;
  const url = spec.edgeUrls[i % spec.edgeUrls.length] as string;
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?token=${token}`, {
    perMessageDeflate: false,
    handshakeTimeout: 30_000,
  });
  const s = { ws, club, ids: new Set<string>() };
  return new Promise((resolve) => {
    let joined = false;
    const timer = setTimeout(() => finish('timeout'), 60_000);
    function finish(reason: string | null) {
      clearTimeout(timer);
      if (reason) ws.terminate();
      else {
        joined = true;
        sockets.push(s);
      }
      resolve(reason);
    }
    ws.on('message', (data: Buffer) => {
      const now = Date.now();
      const f = JSON.parse(data.toString()) as Ev & { events?: Ev[]; for?: string; code?: string };
      if (f.type === 'batch') for (const e of f.events ?? []) onEvent(s, e, now);
      else if (f.type === 'connected')
        ws.send(
          JSON.stringify({ type: 'club:join', id: 'j', data: { clubId: `${spec.clubPrefix}${club}` } }),
        );
      else if (f.type === 'ack' && f.for === 'club:join' && !joined) finish(null);
      else if (f.type === 'error' && !joined) finish(`error_${f.code}`);
      else onEvent(s, f, now);
    });
    ws.on('error', () => {});
    ws.once('close', (code) => {
      if (joined) dropped++;
      else finish(`close_${code}`);
    });
  });
}

/** Socket i is member i / clubs of club i % clubs (the names tests/lib/admin.ts worldNames gives). */
function userOf(spec: MemberSpec, i: number): string {
  return `${spec.userPrefix}${i % spec.clubs}_${Math.floor(i / spec.clubs)}`;
}

async function connect(spec: MemberSpec): Promise<void> {
  const t0 = Date.now();
  const failed: Record<string, number> = {};
  let connected = 0;
  const tokens = await Promise.all(
    Array.from({ length: spec.count }, (_, k) =>
      tokenFor(userOf(spec, spec.from + k), { expiresInSec: 7200 }),
    ),
  );
  const pending: Promise<void>[] = [];
  const gap = spec.spreadMs / Math.max(1, spec.count);
  for (let k = 0; k < spec.count; k++) {
    const due = t0 + k * gap - Date.now();
    if (due > 4) await new Promise((r) => setTimeout(r, due));
    const i = spec.from + k;
    pending.push(
      (async () => {
        let reason = await openOne(spec, i, tokens[k] as string);
        for (let a = 0; reason !== null && a < 3; a++) reason = await openOne(spec, i, tokens[k] as string);
        if (reason === null) connected++;
        else failed[reason] = (failed[reason] ?? 0) + 1;
      })(),
    );
  }
  await Promise.all(pending);
  send({ op: 'connected', connected, failed, elapsedMs: Date.now() - t0 });
}

function report(): MemberReport {
  return {
    connected: sockets.length,
    failed: {},
    open: sockets.filter((s) => s.ws.readyState === WebSocket.OPEN).length,
    perSocket: sockets.map((s) => [s.club, s.ids.size]),
    duplicated,
    latencies,
    dropped,
  };
}

process.on('message', (m: ToMember) => {
  if (m.op === 'connect') void connect(m.spec);
  else if (m.op === 'report') send({ op: 'report', report: report() });
  else if (m.op === 'close') {
    for (const s of sockets) {
      s.ws.removeAllListeners('close');
      s.ws.terminate();
    }
    send({ op: 'closed' });
  }
});
process.on('disconnect', () => process.exit(0));
send({ op: 'ready' });
