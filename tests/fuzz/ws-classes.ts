import { CloseCode, WS_SUBPROTOCOL_MSGPACK } from '@crowncast/protocol';
import { tokenFor } from '@crowncast/testkit';
import { pack } from 'msgpackr';
import { type Probe, probe, RawWs } from '../lib/ws-probe.js';
import { edgeCloseCodes, edgeErrorCodes } from './documented.js';
import { hostileTokens } from './jwt.js';
import { type Rand, randomBinaryFrame, randomTextFrame } from './ws-frames.js';
import { clubMessage, edgeMetric, type FuzzWorld, sleep, waitFor } from './ws-world.js';

/**
 * The WebSocket abuse classes. Each drives real sockets against a real edge and tallies what the
 * edge answered (error codes, close codes); anything docs/edge.md does not promise is a finding.
 * Protocol violations below our layer are answered by the ws library with RFC 6455 codes
 * (1002 protocol error, 1007 invalid UTF-8), listed here as such.
 */
export const RFC_CLOSES: Record<number, string> = { 1002: 'PROTOCOL_ERROR', 1007: 'INVALID_UTF8' };

export class Tally {
  readonly outcomes: Record<string, number> = {};
  readonly findings: string[] = [];
  cases = 0;
  serverErrors = 0;
  add(label: string): void {
    this.outcomes[label] = (this.outcomes[label] ?? 0) + 1;
  }
  bad(note: string): void {
    if (this.findings.length < 20) this.findings.push(note);
  }
}

export interface WsClassCtx {
  w: FuzzWorld;
  rand: Rand;
  /** 1 in CI; more in the long run. */
  scale: number;
  /** How long slowloris upgrades are held (the edge cuts them after WS_HANDSHAKE_TIMEOUT_MS + 1 s). */
  holdMs: number;
  t: Tally;
}

const CLOSES = edgeCloseCodes();
const ERRORS = edgeErrorCodes();

/** Records a close and checks it is the one expected (documented code and reason). */
function expectClose(t: Tally, got: { code: number; reason: string }, want: number | number[], note: string) {
  const wanted = Array.isArray(want) ? want : [want];
  t.add(`close ${got.code}${got.reason ? ` ${got.reason}` : ''}`);
  if (got.code === 1011) t.serverErrors++;
  const documented = CLOSES.has(got.code) || RFC_CLOSES[got.code] !== undefined;
  const reasons = CLOSES.get(got.code) ?? [];
  if (!wanted.includes(got.code) || !documented || (reasons.length > 0 && !reasons.includes(got.reason)))
    t.bad(`${note}: close ${got.code} "${got.reason}", expected ${want}`);
}

async function token(ctx: WsClassCtx, name: string): Promise<string> {
  return tokenFor(ctx.w.user(name), { expiresInSec: 3600 });
}

/** Opens a probe and waits for `connected`; a refusal is a finding. */
async function open(ctx: WsClassCtx, name: string, protocol?: string): Promise<Probe> {
  const p = probe(ctx.w.edgeUrl(), { token: await token(ctx, name), ...(protocol ? { protocol } : {}) });
  if (!(await p.ready)) ctx.t.bad(`${name}: refused at connect (${p.closeCode})`);
  return p;
}

const replies = (p: Probe) =>
  p.frames.filter((f) => f.type === 'error' || f.type === 'ack' || f.type === 'pong');

/**
 * Sends `frames` and a final ping; every frame must get exactly one reply (error/ack/pong) with a
 * documented code, and the connection must stay open.
 */
async function answersEach(ctx: WsClassCtx, p: Probe, frames: (string | Buffer)[], msgpack: boolean) {
  const { t } = ctx;
  for (const f of frames) p.ws.send(f);
  const final = { type: 'ping', id: 'final' };
  p.ws.send(msgpack ? pack(final) : JSON.stringify(final));
  await waitFor(
    () => p.frames.some((f) => f.id === 'final') && replies(p).length >= frames.length + 1,
    5000,
    20,
  );
  t.cases += frames.length;
  for (const f of replies(p)) {
    if (f.id === 'final') continue;
    t.add(f.type === 'error' ? `error ${f.code}` : f.type === 'ack' ? 'ack' : 'pong');
    if (f.type === 'error' && !ERRORS.has(f.code ?? '')) t.bad(`undocumented error code ${f.code}`);
  }
  const missing = frames.length + 1 - replies(p).length;
  if (missing > 0) {
    t.add('no reply');
    t.bad(`${missing} of ${frames.length} frames got no reply`);
  }
  if (p.closeCode !== null) expectClose(t, await p.closed, -1, 'bad frames must not close');
  p.ws.close(1000);
}

export const WS_CLASSES: Record<string, (ctx: WsClassCtx) => Promise<void>> = {
  async 'random text frames'(ctx) {
    for (let c = 0; c < 3 * ctx.scale; c++) {
      const p = await open(ctx, 'noise');
      await answersEach(
        ctx,
        p,
        Array.from({ length: 100 }, (_, i) => randomTextFrame(ctx.rand, i)),
        false,
      );
    }
  },

  async 'binary frames'(ctx) {
    for (let c = 0; c < 2 * ctx.scale; c++) {
      for (const proto of [undefined, WS_SUBPROTOCOL_MSGPACK]) {
        const p = await open(ctx, 'binary', proto);
        const frames = Array.from({ length: 50 }, (_, i) => randomBinaryFrame(ctx.rand, i));
        await answersEach(ctx, p, frames, proto !== undefined);
      }
    }
  },

  async 'malformed frames (raw)'(ctx) {
    const cases: [string, number, (r: RawWs) => void][] = [
      ['reserved opcode 0x3', 1002, (r) => r.frame(0x3, Buffer.from('x'))],
      ['RSV1 without extension', 1002, (r) => r.frame(0x1, Buffer.from('{}'), { rsv: 4 })],
      ['unmasked client frame', 1002, (r) => r.frame(0x1, Buffer.from('{}'), { mask: false })],
      ['invalid UTF-8 text', 1007, (r) => r.frame(0x1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))],
      ['fragmented ping', 1002, (r) => r.frame(0x9, Buffer.from('p'), { fin: false })],
      ['continuation without start', 1002, (r) => r.frame(0x0, Buffer.from('x'))],
      ['close with code 999', 1002, (r) => r.frame(0x8, Buffer.from([0x03, 0xe7]))],
      [
        'length header of 1 TB',
        1009,
        (r) => r.sock.write(Buffer.from([0x81, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4])),
      ],
      [
        'fragments adding up past the limit',
        1009,
        (r) => {
          r.frame(0x1, Buffer.alloc(10_000, 0x61), { fin: false });
          r.frame(0x0, Buffer.alloc(10_000, 0x61));
        },
      ],
    ];
    const tok = await token(ctx, 'raw');
    for (let k = 0; k < ctx.scale; k++) {
      for (const [note, want, act] of cases) {
        const r = new RawWs(ctx.w.edgeUrl());
        ctx.t.cases++;
        if (!(await r.upgrade(`/ws?token=${tok}`))) {
          ctx.t.bad(`${note}: upgrade failed`);
          r.destroy();
          continue;
        }
        act(r);
        await waitFor(() => r.ended || r.serverClose !== null, 5000, 10);
        const code = r.serverClose;
        ctx.t.add(code === null ? (r.ended ? 'dropped without close frame' : 'still open') : `close ${code}`);
        if (code !== want) ctx.t.bad(`${note}: close ${code}, expected ${want}`);
        r.destroy();
        await r.done;
      }
    }
  },

  async 'oversized frames'(ctx) {
    const sizes = [16_385, 65_536, 1024 * 1024];
    for (let k = 0; k < ctx.scale; k++) {
      for (const size of sizes) {
        for (const binary of [false, true]) {
          const p = await open(ctx, 'big');
          ctx.t.cases++;
          p.ws.send(binary ? Buffer.alloc(size, 1) : `{"type":"ping","id":"${'x'.repeat(size)}"}`);
          expectClose(ctx.t, await p.closed, CloseCode.FRAME_TOO_LARGE, `${size} bytes`);
        }
      }
    }
  },

  async floods(ctx) {
    // Five flooding sockets at a time (the user's connection limit is 10).
    for (let k = 0; k < ctx.scale; k++) {
      const conns = await Promise.all(Array.from({ length: 5 }, () => open(ctx, 'flood')));
      for (const p of conns) {
        ctx.t.cases++;
        for (let i = 0; i < 300 && p.ws.readyState === p.ws.OPEN; i++) p.ws.send('{"type":"ping"}');
      }
      for (const p of conns) expectClose(ctx.t, await p.closed, CloseCode.RATE_LIMITED, 'flood');
    }
  },

  async 'joins to foreign rooms'(ctx) {
    const { w, t } = ctx;
    const p = await open(ctx, 'intruder');
    const targets = [
      `{"type":"club:join","id":"f0","data":{"clubId":"${w.clubB}"}}`,
      `{"type":"club:join","id":"f1","data":{"clubId":"${w.clubB}","lastSeq":0}}`,
      `{"type":"game:join","id":"f2","data":{"gameId":"${w.p}nogame"}}`,
      ...Array.from(
        { length: 40 * ctx.scale },
        (_, i) =>
          `{"type":"club:join","id":"g${i}","data":{"clubId":"${w.p}x${Math.floor(ctx.rand() * 1e9)}"}}`,
      ),
    ];
    await answersEach(ctx, p, targets.slice(0, 100), false);
    // A second connection proves the refused joins left nothing behind: clubB's events never arrive.
    const q = await open(ctx, 'intruder');
    q.ws.send(`{"type":"club:join","id":"h","data":{"clubId":"${w.clubB}"}}`);
    await waitFor(() => q.frames.some((f) => f.id === 'h'), 5000);
    w.nc.publish(`${w.iso.prefix}room.club.${w.clubB}`, JSON.stringify(clubMessage(w.user('x'), 'secret')));
    q.ws.send('{"type":"rooms","id":"r"}');
    await waitFor(() => q.frames.some((f) => f.id === 'r'), 5000);
    await sleep(300);
    const leaked = q.frames.filter((f) => (f as { room?: string }).room === `club:${w.clubB}`);
    const listed = JSON.stringify(q.frames.find((f) => f.id === 'r')).includes(`club:${w.clubB}`);
    if (leaked.some((f) => f.type !== 'error') || listed)
      t.bad('a foreign room delivered events or was joined');
    q.ws.close(1000);
    await q.closed;
  },

  async '1,000 connections from one user'(ctx) {
    const tok = await token(ctx, 'hoarder');
    const all: Probe[] = [];
    for (let wave = 0; wave < 10; wave++) {
      const ps = Array.from({ length: 100 }, () => probe(ctx.w.edgeUrl(), { token: tok }));
      await Promise.all(ps.map((p) => Promise.race([p.ready, p.closed])));
      all.push(...ps);
    }
    ctx.t.cases += all.length;
    const accepted = all.filter((p) => p.closeCode === null);
    ctx.t.add(`connected ${accepted.length}`);
    for (const p of all.filter((q) => q.closeCode !== null))
      expectClose(ctx.t, await p.closed, CloseCode.TOO_MANY_CONNECTIONS, 'connection over the limit');
    if (accepted.length !== 10) ctx.t.bad(`${accepted.length} connections accepted, limit is 10`);
    for (const p of accepted) p.ws.close(1000);
    await Promise.all(accepted.map((p) => p.closed));
  },

  async 'slowloris upgrades'(ctx) {
    const tok = await token(ctx, 'loris');
    const n = 100 * ctx.scale;
    const socks = Array.from({ length: n }, () => new RawWs(ctx.w.edgeUrl()));
    const head = socks[0]?.upgradeRequest(`/ws?token=${tok}`) ?? '';
    // Everything but the blank line that ends the headers, then one more header line per second.
    for (const s of socks) s.sock.write(head.slice(0, -2));
    ctx.t.cases += n;
    const hold = Date.now() + ctx.holdMs;
    let drip = 0;
    let freshOk = 0;
    while (Date.now() < hold) {
      for (const s of socks) if (!s.ended) s.sock.write(`X-Drip-${drip}: 1\r\n`);
      drip++;
      // Meanwhile someone else connects normally and must be served at once.
      const fresh = probe(ctx.w.edgeUrl(), { token: await token(ctx, 'fresh') });
      const ok = await Promise.race([fresh.ready, sleep(3000).then(() => false)]);
      if (ok) freshOk++;
      else ctx.t.bad('a normal client was not served while slowloris upgrades were held');
      fresh.ws.close(1000);
      await fresh.closed;
      await sleep(1000);
    }
    ctx.t.add(`normal clients served ${freshOk}`);
    for (const s of socks) ctx.t.add(s.ended ? 'cut by edge' : s.upgraded ? 'upgraded (!)' : 'held open');
    if (socks.some((s) => s.upgraded)) ctx.t.bad('an unfinished upgrade was accepted');
    // WS_HANDSHAKE_TIMEOUT_MS (2 s in this stack) plus the 1 s check, well inside the hold.
    if (ctx.holdMs >= 4000 && socks.some((s) => !s.ended))
      ctx.t.bad('an unfinished upgrade was still held after WS_HANDSHAKE_TIMEOUT_MS');
    for (const s of socks) s.destroy();
  },

  async 'client that never reads'(ctx) {
    const { w } = ctx;
    for (let k = 0; k < ctx.scale; k++) {
      const p = await open(ctx, 'sloth');
      p.ws.send(`{"type":"club:join","id":"j","data":{"clubId":"${w.clubA}"}}`);
      await waitFor(() => p.frames.some((f) => f.id === 'j'), 5000);
      p.ws.pause();
      ctx.t.cases++;
      // 50 kB events into the bystander's own room, paced by the bystander (who reads): bursts stay
      // below the send bound, so only the client that never reads falls behind.
      // The paused client cannot see its close yet: the edge's slow-consumer count says when to stop.
      // (A labelled counter has no line before its first increment: NaN counts as 0.)
      const slow = async () => (await edgeMetric(w.edgeUrl(), 'crowncast_edge_slow_consumers_total')) || 0;
      const before = await slow();
      // Up to 100 MB: the kernel buffers of a loopback connection alone can take 36 MB (tcp_rmem
      // max 32 MB here) before the edge sees any unsent byte.
      const blob = 'b'.repeat(50_000);
      for (let i = 0; i < 2000; i++) {
        w.publishA({ blob }, 'big');
        if (i % 4 === 3 && (await w.bystanderMissing(10_000)) > 0) break;
        if (i % 20 === 19 && (await slow()) > before) break;
      }
      p.ws.resume();
      // A client that reads nothing does not answer pings either: whichever bound the edge hits
      // first ends it, 4009 (send buffer or lag) or 1006 (heartbeat terminate), both documented.
      expectClose(ctx.t, await p.closed, [CloseCode.SLOW_CONSUMER, 1006], 'never-reading client');
    }
  },

  async 'bad handshakes'(ctx) {
    const { w, t } = ctx;
    const tokens = hostileTokens(w.user('mallory'), 'unused');
    // No audience is configured on this stack, so tokens that only differ in `aud` are valid.
    delete tokens.wrong_audience;
    delete tokens.no_audience;
    const good = await token(ctx, 'mallory');
    const cases: [string, { token?: string; query?: string; headers?: Record<string, string> }, number][] = [
      ...Object.entries(tokens).map(([name, tok]): [string, { token: string }, number] => [
        name,
        { token: tok },
        name === 'expired' ? CloseCode.AUTH_TOKEN_EXPIRED : CloseCode.AUTH_FAILED,
      ]),
      ['no token', {}, CloseCode.AUTH_FAILED],
      ['negative userLastSeq', { token: good, query: 'userLastSeq=-1' }, CloseCode.AUTH_FAILED],
      ['token of 9000 chars', { token: 'a'.repeat(9000) }, CloseCode.AUTH_FAILED],
      [
        'foreign Origin',
        { token: good, headers: { origin: 'https://evil.example' } },
        CloseCode.ORIGIN_NOT_ALLOWED,
      ],
    ];
    for (let k = 0; k < ctx.scale; k++) {
      for (const [note, o, want] of cases) {
        t.cases++;
        const p = probe(w.edgeUrl(), o);
        const got = await p.closed;
        expectClose(t, got, want, note);
        if (p.frames.length) t.bad(`${note}: a refused client received ${p.frames.length} data frames`);
      }
    }
  },
};
