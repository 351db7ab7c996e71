import { PresenceStatusData, roomSubject } from '@crowncast/protocol';
import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { api, conn, eventually, fakeEdge, startPresence, usePresence, user } from './helpers.js';

const MIN = 60_000;

describe('user status with the default timings (idle 5 min, away 15 min)', () => {
  const fx = usePresence();

  it('is online with any device, counts devices, and goes offline only when the last one goes', async () => {
    const a = fakeEdge(fx.nc, fx.iso.prefix, 'edge-a');
    const b = fakeEdge(fx.nc, fx.iso.prefix, 'edge-b');
    const phone = conn('c-phone', 'alice');
    const laptop = conn('c-laptop', 'alice');
    expect((await user(fx.svc, 'alice')).status).toBe('offline');

    a.connect(phone);
    b.connect(laptop);
    await eventually(async () => (await user(fx.svc, 'alice')).devices === 2);
    expect((await user(fx.svc, 'alice')).status).toBe('online');
    expect((await api<{ data: { online: number } }>(fx.svc, '/presence/online/count')).body.data.online).toBe(
      1,
    );

    a.disconnect(phone);
    await eventually(async () => (await user(fx.svc, 'alice')).devices === 1);
    expect((await user(fx.svc, 'alice')).status).toBe('online');

    const before = Date.now();
    b.disconnect(laptop);
    const gone = await eventually(async () => {
      const u = await user(fx.svc, 'alice');
      return u.status === 'offline' ? u : false;
    });
    expect(gone.devices).toBe(0);
    expect(Date.parse(gone.lastSeenAt!)).toBeGreaterThanOrEqual(before - 5);
    expect((await api<{ data: { online: number } }>(fx.svc, '/presence/online/count')).body.data.online).toBe(
      0,
    );

    // Exactly one change per transition, on presence.changes.
    await eventually(async () => fx.changes.filter((c) => c.userId === 'alice').length === 2);
    expect(fx.changes.filter((c) => c.userId === 'alice').map((c) => [c.previous, c.status])).toEqual([
      ['offline', 'online'],
      ['online', 'offline'],
    ]);
  });

  it('derives idle and away from the last client activity, and any activity makes the user online', async () => {
    const e = fakeEdge(fx.nc, fx.iso.prefix, 'edge-c');
    e.connect(conn('c-bob', 'bob', [], Date.now() - 6 * MIN));
    await eventually(async () => (await user(fx.svc, 'bob')).status === 'idle');
    e.connect(conn('c-carol', 'carol', [], Date.now() - 16 * MIN));
    await eventually(async () => (await user(fx.svc, 'carol')).status === 'away');
    // Still only 4 minutes: online.
    e.connect(conn('c-dave', 'dave', [], Date.now() - 4 * MIN));
    await eventually(async () => (await user(fx.svc, 'dave')).devices === 1);
    expect((await user(fx.svc, 'dave')).status).toBe('online');

    e.activity(conn('c-carol', 'carol', [], Date.now()));
    await eventually(async () => (await user(fx.svc, 'carol')).status === 'online');
    // The change message may arrive a moment after the REST answer shows it.
    const carol = () => fx.changes.filter((c) => c.userId === 'carol').map((c) => c.status);
    await eventually(async () => carol().length === 2);
    expect(carol()).toEqual(['away', 'online']);
  });

  it('keeps presence across a restart of the presence process', async () => {
    const e = fakeEdge(fx.nc, fx.iso.prefix, 'edge-d');
    e.connect(conn('c-erin', 'erin'));
    await eventually(async () => (await user(fx.svc, 'erin')).status === 'online');
    await fx.svc.stop();
    fx.svc = await startPresence(fx.iso);
    const erin = await user(fx.svc, 'erin');
    expect(erin).toMatchObject({ status: 'online', devices: 1 });
  });
});

describe('idle and away timers (short configured timings, no new messages)', () => {
  const fx = usePresence({ IDLE_AFTER_MS: '600', AWAY_AFTER_MS: '1200' });

  it('moves online → idle → away on its own clock, then back to online on activity', async () => {
    const e = fakeEdge(fx.nc, fx.iso.prefix, 'edge-t');
    const started = Date.now();
    const c = conn('c-frank', 'frank', [], started);
    e.connect(c);
    await eventually(async () => (await user(fx.svc, 'frank')).status === 'idle', 3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    await eventually(async () => (await user(fx.svc, 'frank')).status === 'away', 3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1150);
    e.activity({ ...c, lastActivityAt: Date.now() });
    await eventually(async () => (await user(fx.svc, 'frank')).status === 'online');
    await eventually(async () => fx.changes.length === 4);
    expect(fx.changes.map((x) => x.status)).toEqual(['online', 'idle', 'away', 'online']);
    expect(fx.changes.every((x) => x.devices === 1)).toBe(true);
  });
});

describe('the injectable clock (CLOCK_OFFSET_MS)', () => {
  // This presence process lives 6 minutes ahead of the edges.
  const fx = usePresence({ CLOCK_OFFSET_MS: String(6 * MIN) });

  it('judges idle by its own clock: fresh activity from the edge is already 6 minutes old', async () => {
    fakeEdge(fx.nc, fx.iso.prefix, 'edge-clock').connect(conn('c-gus', 'gus', [], Date.now()));
    await eventually(async () => (await user(fx.svc, 'gus')).devices === 1);
    expect((await user(fx.svc, 'gus')).status).toBe('idle');
  });
});

describe('status changes in the private room (PUBLISH_USER_STATUS=true)', () => {
  const fx = usePresence({ PUBLISH_USER_STATUS: 'true' });

  it('publishes presence:status into room.user.<id>, once per change, with the id as Nats-Msg-Id', async () => {
    const e = fakeEdge(fx.nc, fx.iso.prefix, 'edge-priv');
    const c = conn('c-hal', 'hal');
    e.connect(c);
    await eventually(async () => (await user(fx.svc, 'hal')).status === 'online');
    e.disconnect(c);
    await eventually(async () => (await user(fx.svc, 'hal')).status === 'offline');
    const jsm = await jetstreamManager(fx.nc);
    const got = await eventually(async () => {
      const info = await jsm.streams.info(fx.iso.stream);
      const out: { msgId: string | undefined; body: { type: string; id: string; data: unknown } }[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const m = await jsm.streams.getMessage(fx.iso.stream, { seq });
        if (m?.subject === roomSubject('user:hal', fx.iso.prefix)) {
          out.push({ msgId: m.header?.get('Nats-Msg-Id'), body: m.json() });
        }
      }
      return out.length === 2 ? out : false;
    });
    expect(got.map((g) => g.body.type)).toEqual(['presence:status', 'presence:status']);
    expect(got.map((g) => PresenceStatusData.parse(g.body.data).status)).toEqual(['online', 'offline']);
    for (const g of got) expect(g.msgId).toBe(g.body.id);
  });
});
