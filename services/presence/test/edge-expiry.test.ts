import { roomSubject } from '@crowncast/protocol';
import type { RunningService } from '@crowncast/testkit';
import { describe, expect, it } from 'vitest';
import {
  api,
  conn,
  eventually,
  fakeEdge,
  metric,
  readStream,
  startPresence,
  type UserView,
  usePresence,
} from './helpers.js';

const INTERVAL = 300;
const MISSED = 3;
const TICK = 50;

const batch = async (svc: RunningService, userIds: string[]) =>
  (
    await api<{ data: { users: UserView[] } }>(svc, '/presence/users:batch', {
      method: 'POST',
      body: { userIds },
    })
  ).body.data.users;

describe('an edge that stops heartbeating', () => {
  const env = {
    EDGE_MISSED_HEARTBEATS: String(MISSED),
    TICK_MS: String(TICK),
    DEFAULT_HEARTBEAT_MS: String(INTERVAL),
  };
  const fx = usePresence(env);

  it('has every user it held shown offline within missed × interval + one tick of its last heartbeat', async () => {
    const dying = fakeEdge(fx.nc, fx.iso.prefix, 'edge-dying');
    const other = fakeEdge(fx.nc, fx.iso.prefix, 'edge-alive');
    const users = Array.from({ length: 300 }, (_, i) => `d${i}`);
    const conns = users.map((u) => conn(`dc-${u}`, u, ['club:dz']));
    // One of them also holds a device on a healthy edge: it must stay online. That edge announces a
    // long interval (it still beats every INTERVAL), so a loaded machine that delays the test's own
    // timers past MISSED × INTERVAL cannot expire it too: this test is about the dying edge.
    const survivor = conn('alive-d0', 'd0', ['club:dz']);
    const HEALTHY_INTERVAL = 10_000;
    for (let round = 0; round < 4; round++) {
      dying.heartbeat(conns, INTERVAL);
      other.heartbeat([survivor], HEALTHY_INTERVAL);
      await new Promise((r) => setTimeout(r, INTERVAL));
    }
    await eventually(async () => (await batch(fx.svc, users)).every((u) => u.status === 'online'));
    // The dying edge sends its last heartbeat now; the healthy one goes on.
    dying.heartbeat(conns, INTERVAL);
    const lastBeat = Date.now();
    const keepAlive = setInterval(() => other.heartbeat([survivor], HEALTHY_INTERVAL), INTERVAL);
    try {
      // Not expired early: a heartbeat late by less than (missed − 1) intervals changes nothing.
      await new Promise((r) => setTimeout(r, (MISSED - 1) * INTERVAL - 100));
      const early = (await batch(fx.svc, users)).filter((u) => u.status !== 'online').length;
      expect(early, 'users expired before the deadline').toBe(0);

      await eventually(
        async () => (await batch(fx.svc, users.slice(1))).every((u) => u.status === 'offline'),
        10_000,
        20,
      );
      const took = Date.now() - lastBeat;
      // Slack for a loaded 2-core machine: the bound itself is MISSED × INTERVAL + TICK.
      expect(took, 'offline too late').toBeLessThanOrEqual(MISSED * INTERVAL + TICK + 1000);
      expect(took, 'offline too early').toBeGreaterThanOrEqual((MISSED - 1) * INTERVAL);
      expect((await batch(fx.svc, ['d0']))[0]).toMatchObject({ status: 'online', devices: 1 });
    } finally {
      clearInterval(keepAlive);
    }
    expect(await metric(fx.svc, 'crowncast_presence_edges_expired_total')).toBeGreaterThanOrEqual(1);
    const left = await eventually(async () => {
      const evs = (await readStream(fx.nc, fx.iso, roomSubject('club:dz', fx.iso.prefix))).filter(
        (x) => x.event.type === 'club:member:disconnected',
      );
      return evs.length >= 20 ? evs : false;
    });
    expect(left.every((x) => (x.event.data as { userId: string }).userId !== 'd0')).toBe(true);
  });

  it('drops a connection a live edge stops listing (its disconnect notice was lost)', async () => {
    const e = fakeEdge(fx.nc, fx.iso.prefix, 'edge-lossy');
    const kept = conn('lossy-1', 'kim');
    const lost = conn('lossy-2', 'lee');
    e.heartbeat([kept, lost], INTERVAL);
    await eventually(async () => (await batch(fx.svc, ['lee']))[0]?.status === 'online');
    const t0 = Date.now();
    const beat = setInterval(() => e.heartbeat([kept], INTERVAL), INTERVAL);
    try {
      await eventually(async () => (await batch(fx.svc, ['lee']))[0]?.status === 'offline', 5000, 20);
      expect(Date.now() - t0).toBeLessThanOrEqual((MISSED + 1) * INTERVAL + 500);
      expect((await batch(fx.svc, ['kim']))[0]?.status).toBe('online');
    } finally {
      clearInterval(beat);
    }
  });

  it('never lets a late heartbeat bring back a closed connection', async () => {
    const e = fakeEdge(fx.nc, fx.iso.prefix, 'edge-late');
    const c = conn('late-1', 'mo');
    const sentBeforeClose = Date.now();
    e.connect(c);
    await eventually(async () => (await batch(fx.svc, ['mo']))[0]?.status === 'online');
    e.disconnect(c);
    await eventually(async () => (await batch(fx.svc, ['mo']))[0]?.status === 'offline');
    e.heartbeat([c], INTERVAL, sentBeforeClose); // written before the close, delivered after it
    e.connect(conn('late-2', 'probe'));
    await eventually(async () => (await batch(fx.svc, ['probe']))[0]?.status === 'online');
    expect((await batch(fx.svc, ['mo']))[0]?.status).toBe('offline');
  });

  it('does not log off the users of live edges after presence itself was down longer than their lease', async () => {
    const e = fakeEdge(fx.nc, fx.iso.prefix, 'edge-steady');
    const c = conn('steady-1', 'sol');
    e.heartbeat([c], INTERVAL);
    await eventually(async () => (await batch(fx.svc, ['sol']))[0]?.status === 'online');
    const beat = setInterval(() => e.heartbeat([c], INTERVAL), INTERVAL);
    try {
      await fx.svc.stop();
      await new Promise((r) => setTimeout(r, 2 * MISSED * INTERVAL)); // the edge's deadline passes
      const seen = fx.changes.length;
      fx.svc = await startPresence(fx.iso, env);
      await new Promise((r) => setTimeout(r, 3 * INTERVAL));
      expect((await batch(fx.svc, ['sol']))[0]?.status).toBe('online');
      expect(fx.changes.slice(seen).filter((x) => x.userId === 'sol')).toEqual([]);
    } finally {
      clearInterval(beat);
    }
  });
});
