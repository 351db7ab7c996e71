import { tokenFor } from '@crowncast/testkit';
import WebSocket from 'ws';
import { nowMs, PHASES, scanFrame } from './event.js';
import type { ConnectResult, ConnectSpec, FromClient, PhaseStats, ToClient } from './ipc.js';

/**
 * One client process of the benchmark (forked by the orchestrator). It holds thousands of real
 * WebSocket clients and keeps each cheap: no UTF-8 validation, no JSON parse of room frames (markers
 * are found with indexOf), latency recorded on one socket in `sampleEvery` only.
 */

const SAMPLE_CAP = 60_000;
const counts = new Float64Array(PHASES);
const frames = new Float64Array(PHASES);
const samples: number[][] = Array.from({ length: PHASES }, () => []);
const seen = new Float64Array(PHASES);
const sockets: WebSocket[] = [];
let lost = 0;

function send(msg: FromClient): void {
  process.send?.(msg);
}

// Reservoir sampling keeps a uniform sample of a phase's latencies with bounded memory.
function record(phase: number, latency: number): void {
  const list = samples[phase]!;
  const n = ++seen[phase]!;
  if (list.length < SAMPLE_CAP) list.push(latency);
  else {
    const j = Math.floor(Math.random() * n);
    if (j < SAMPLE_CAP) list[j] = latency;
  }
}

/** A Socket.IO event frame (`42["name",...]`) of this name. */
function isEvent(buf: Buffer, name: string): boolean {
  return buf.includes(`["${name}"`);
}

function isControl(buf: Buffer, type: string): boolean {
  return buf.includes(`"type":"${type}"`);
}

/** Opens one socket and resolves when it is in its room (or with the reason it is not). */
function openOne(spec: ConnectSpec, i: number, token: string | null): Promise<string | null> {
  const room = spec.rooms > 0 ? `${spec.roomPrefix}${i % spec.rooms}` : null;
  let url = spec.url;
  if (spec.kind === 'raw' || spec.kind === 'sio') {
    const q = room ? `room=${room}` : 'room=big';
    url += spec.kind === 'sio' ? `?EIO=4&transport=websocket&${q}` : `?${q}`;
  } else url += `?token=${encodeURIComponent(token ?? '')}`;
  const sampled = i % spec.sampleEvery === 0;
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    skipUTF8Validation: true,
    handshakeTimeout: spec.timeoutMs,
  });
  return new Promise((resolve) => {
    let settled = false;
    const timer = setTimeout(() => done('timeout'), spec.timeoutMs);
    function done(reason: string | null): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.off('message', onSetup);
      if (reason) {
        ws.terminate();
        resolve(reason);
        return;
      }
      ws.on('message', onData);
      ws.once('close', () => lost++);
      sockets.push(ws);
      resolve(null);
    }
    function onData(data: Buffer): void {
      // Engine.IO ping ("2") must be answered or Socket.IO drops the client.
      if (spec.kind === 'sio' && data.length === 1 && data[0] === 0x32) ws.send('3');
      else {
        const phase = scanFrame(data, counts, sampled ? record : null, nowMs());
        if (phase >= 0) frames[phase]!++;
      }
    }
    function onSetup(data: Buffer): void {
      if (spec.kind === 'sio') {
        // Open → connect with the token as the spec's client does (`auth: { token }`); in once the
        // gateway's `connected` event arrives (token verified, rooms joined), as for Crowncast.
        if (data[0] === 0x30) ws.send(`40${JSON.stringify({ token })}`);
        else if (data[0] === 0x34 && data[1] === 0x32 && isEvent(data, 'connected')) done(null);
        else if (data[0] === 0x34 && data[1] === 0x34) done('sio_connect_error');
        else if (data[0] === 0x34 && data[1] === 0x31) done('sio_disconnected');
        return;
      }
      if (spec.kind !== 'cc') return;
      if (isControl(data, 'connected')) {
        if (room) ws.send(JSON.stringify({ type: 'club:join', id: 'j', data: { clubId: room } }));
        else done(null);
      } else if (isControl(data, 'ack')) done(null);
      else if (isControl(data, 'error')) done('join_error');
    }
    ws.on('message', onSetup);
    ws.once('open', () => {
      if (spec.kind === 'raw') done(null);
    });
    ws.once('unexpected-response', (_req, res) => done(`http_${res.statusCode}`));
    // Kept for the socket's life: an 'error' without a listener would crash the process.
    ws.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? 'error'));
    ws.once('close', (code) => done(`close_${code}`));
  });
}

/** Setup connects retry (the workloads need every socket); the connect storm does not. */
async function openWithRetries(spec: ConnectSpec, i: number, token: string | null): Promise<string | null> {
  let reason = await openOne(spec, i, token);
  for (let attempt = 0; reason !== null && attempt < spec.retries; attempt++) {
    await new Promise((r) => setTimeout(r, 250 + Math.random() * 500));
    reason = await openOne(spec, i, token);
  }
  return reason;
}

async function connectAll(spec: ConnectSpec): Promise<ConnectResult> {
  const tokens: (string | null)[] = [];
  for (let k = 0; k < spec.count; k++) {
    tokens.push(spec.kind !== 'raw' ? await tokenFor(`${spec.userPrefix}${spec.from + k}`) : null);
  }
  const reasons: Record<string, number> = {};
  let connected = 0;
  let lastOk = 0;
  const start = nowMs();
  const pending: Promise<void>[] = [];
  const gap = spec.count > 1 ? spec.spreadMs / spec.count : 0;
  // Opens are paced by a bounded loop: socket k starts at start + k * gap.
  for (let k = 0; k < spec.count; k++) {
    const due = start + k * gap - nowMs();
    if (due > 4) await new Promise((r) => setTimeout(r, due));
    pending.push(
      openWithRetries(spec, spec.from + k, tokens[k] ?? null).then((reason) => {
        if (reason === null) {
          connected++;
          lastOk = nowMs();
        } else reasons[reason] = (reasons[reason] ?? 0) + 1;
      }),
    );
  }
  await Promise.all(pending);
  return {
    connected,
    refused: spec.count - connected,
    reasons,
    elapsedMs: connected ? lastOk - start : 0,
  };
}

let lastCpu = process.cpuUsage();

function takeStats(phase: number): PhaseStats {
  const cpu = process.cpuUsage(lastCpu);
  lastCpu = process.cpuUsage();
  const stats = {
    cpuMs: (cpu.user + cpu.system) / 1000,
    delivered: counts[phase]!,
    frames: frames[phase]!,
    latencies: samples[phase]!,
    open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length,
    lost,
  };
  counts[phase] = 0;
  frames[phase] = 0;
  seen[phase] = 0;
  samples[phase] = [];
  return stats;
}

async function closeAll(): Promise<void> {
  const all = sockets.splice(0);
  await Promise.all(
    all.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.removeAllListeners('close');
          ws.once('close', () => resolve());
          ws.terminate();
        }),
    ),
  );
  lost = 0;
  counts.fill(0);
  frames.fill(0);
}

process.on('message', (msg: ToClient) => {
  if (msg.op === 'connect') void connectAll(msg.spec).then((result) => send({ op: 'connected', result }));
  else if (msg.op === 'stats') send({ op: 'stats', stats: takeStats(msg.phase) });
  else if (msg.op === 'close') void closeAll().then(() => send({ op: 'closed' }));
});
process.on('disconnect', () => process.exit(0));
send({ op: 'ready' });
