import { roomSubject } from '@crowncast/protocol';
import { describe, expect, it } from 'vitest';
import {
  api,
  conn,
  eventually,
  fakeEdge,
  metric,
  readClubEvents,
  readStream,
  usePresence,
} from './helpers.js';

const N = 5000;
const WINDOW_MS = 200;
const FRAMES = 20;

describe('a storm of 5,000 joins in one club room', () => {
  const fx = usePresence({ ROOM_WINDOW_MS: String(WINDOW_MS), ROOM_FRAMES_PER_WINDOW: String(FRAMES) });

  const online = async () =>
    (await api<{ data: { online: number } }>(fx.svc, '/presence/rooms/club:storm?limit=1')).body.data.online;

  it('is counted in full but reaches the room as a bounded number of frames per window', async () => {
    const e = fakeEdge(fx.nc, fx.iso.prefix, 'edge-s1');
    const started = Date.now();
    for (let i = 0; i < N; i++) e.connect(conn(`s1-${i}`, `fan${i}`, ['club:storm']));
    await eventually(async () => (await online()) === N, 20_000, 100);
    const coalesced = await eventually(async () => {
      const frames = (await readStream(fx.nc, fx.iso, roomSubject('club:storm', fx.iso.prefix))).length;
      const left = await metric(fx.svc, 'crowncast_presence_frames_coalesced_total');
      return frames + left === N ? { frames, left } : false;
    }, 10_000);
    const windows = Math.ceil((Date.now() - started) / WINDOW_MS) + 1;
    expect(coalesced.frames).toBeGreaterThan(0);
    expect(coalesced.frames).toBeLessThanOrEqual(FRAMES * windows);
    expect(coalesced.left).toBeGreaterThan(N / 2);

    // Frames per window never exceed the budget (stream timestamps, bucketed by window).
    const jsFrames = await readStream(fx.nc, fx.iso, roomSubject('club:storm', fx.iso.prefix));
    const perWindow = new Map<number, number>();
    for (const f of jsFrames) {
      const w = Math.floor(Date.parse(f.event.ts) / WINDOW_MS);
      perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
    }
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(FRAMES * 2);
  });

  it('sends (almost) nothing when the whole room reconnects to another edge', async () => {
    const before = (await readClubEvents(fx.nc, fx.iso)).length;
    const started = Date.now();
    const old = fakeEdge(fx.nc, fx.iso.prefix, 'edge-s1');
    const fresh = fakeEdge(fx.nc, fx.iso.prefix, 'edge-s2');
    for (let i = 0; i < N; i++) {
      old.disconnect(conn(`s1-${i}`, `fan${i}`, ['club:storm']));
      fresh.connect(conn(`s2-${i}`, `fan${i}`, ['club:storm']));
    }
    await eventually(
      async () => (await metric(fx.svc, 'crowncast_presence_messages_total', { kind: 'connect' })) === 2 * N,
      20_000,
      100,
    );
    const windows = Math.ceil((Date.now() - started) / WINDOW_MS) + 1;
    await new Promise((r) => setTimeout(r, 3 * WINDOW_MS));
    expect(await online()).toBe(N);
    // A leave and the rejoin of the same user in one window cancel out. Only a window that closes
    // exactly between a user's two messages can let that one pair through (2 frames).
    const extra = (await readClubEvents(fx.nc, fx.iso)).length - before;
    expect(extra).toBeLessThanOrEqual(2 * windows);
    expect(extra).toBeLessThan(N / 50);
  });
});
