import { presenceOnlineSubject, RoomsOnline, roomSubject } from '@crowncast/protocol';
import { cleanup, isolation, type RunningService } from '@crowncast/testkit';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  conn,
  eventually,
  fakeEdge,
  natsFor,
  readClubEvents,
  readStream,
  startPresence,
  usePresence,
} from './helpers.js';

interface RoomView {
  room: string;
  online: number;
  members: { userId: string; status: string }[];
  nextCursor: string | null;
}
const roomOf = async (svc: RunningService, room: string, q = '') =>
  (await api<{ data: RoomView }>(svc, `/presence/rooms/${room}${q}`)).body.data;

describe('rooms: counts, members and club:member:connected/disconnected', () => {
  const fx = usePresence();

  it("publishes each changed club room's exact online count on presence.online (the ledger keeps it)", async () => {
    const counts: RoomsOnline[] = [];
    const sub = fx.nc.subscribe(presenceOnlineSubject(fx.iso.prefix), {
      callback: (_e, m) => {
        counts.push(RoomsOnline.parse(m.json()));
      },
    });
    const e = fakeEdge(fx.nc, fx.iso.prefix, 'edge-count');
    const a = conn('k-1', 'kim', ['club:cnt']);
    e.connect(a);
    e.connect(conn('k-2', 'lee', ['club:cnt']));
    const last = (room: string) =>
      counts
        .flatMap((c) => c.rooms)
        .filter((r) => r.room === room)
        .at(-1)?.online;
    await eventually(async () => last('club:cnt') === 2);
    e.disconnect(a);
    await eventually(async () => last('club:cnt') === 1);
    sub.unsubscribe();
  });

  it('counts a user once however many devices are in the room, and announces first-in and last-out only', async () => {
    const e = fakeEdge(fx.nc, fx.iso.prefix, 'edge-r1');
    const p1 = conn('r-1', 'gina', ['club:c1', 'game:g1']);
    const p2 = conn('r-2', 'gina', ['club:c1']);
    e.connect(p1);
    e.connect(p2);
    e.connect(conn('r-3', 'hank', ['club:c1']));
    await eventually(async () => (await roomOf(fx.svc, 'club:c1')).online === 2);
    expect((await roomOf(fx.svc, 'game:g1')).online).toBe(1);

    e.disconnect(p1); // gina still has r-2 in club:c1
    await eventually(async () => (await roomOf(fx.svc, 'game:g1')).online === 0);
    expect((await roomOf(fx.svc, 'club:c1')).online).toBe(2);
    await new Promise((r) => setTimeout(r, 400)); // let the first window publish
    e.disconnect(p2);
    await eventually(async () => (await roomOf(fx.svc, 'club:c1')).online === 1);

    const subject = roomSubject('club:c1', fx.iso.prefix);
    const events = await eventually(async () => {
      const evs = await readStream(fx.nc, fx.iso, subject);
      return evs.length === 3 ? evs : false;
    });
    const seen = events.map((x) => `${x.event.type} ${(x.event.data as { userId: string }).userId}`);
    expect(seen.sort()).toEqual([
      'club:member:connected gina',
      'club:member:connected hank',
      'club:member:disconnected gina',
    ]);
    for (const x of events) {
      expect(x.msgId).toBe(x.event.id);
      expect(x.event.data).toMatchObject({ clubId: 'c1' });
    }
    // Game rooms are counted but not announced.
    expect((await readStream(fx.nc, fx.iso)).filter((x) => x.subject.includes('game')).length).toBe(0);
  });

  it('pages a large room in user id order', async () => {
    const e = fakeEdge(fx.nc, fx.iso.prefix, 'edge-r2');
    const ids = Array.from({ length: 25 }, (_, i) => `m${String(i).padStart(3, '0')}`);
    e.heartbeat(
      ids.map((u) => conn(`p-${u}`, u, ['club:big'])),
      10_000,
    );
    await eventually(async () => (await roomOf(fx.svc, 'club:big')).online === 25);
    const got: string[] = [];
    let cursor: string | null = null;
    do {
      const page: RoomView = await roomOf(
        fx.svc,
        'club:big',
        `?limit=10${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.members.length).toBeLessThanOrEqual(10);
      got.push(...page.members.map((m) => m.userId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(got).toEqual(ids);
  });
});

describe('two presence replicas', () => {
  const iso = isolation();
  let nc: NatsConnection;
  let a: RunningService;
  let b: RunningService;

  beforeAll(async () => {
    nc = await natsFor(iso);
    const env = { ROOM_FRAMES_PER_WINDOW: '1000' };
    [a, b] = await Promise.all([startPresence(iso, env), startPresence(iso, env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await nc?.close();
    await cleanup(iso);
  });

  it('publish each connected and disconnected event exactly once', async () => {
    const edges = [fakeEdge(nc, iso.prefix, 'edge-x'), fakeEdge(nc, iso.prefix, 'edge-y')];
    const users = Array.from({ length: 120 }, (_, i) => `u${i}`);
    // Every user on two devices (one per edge), in one of three clubs; heartbeats repeat the same.
    const conns = users.flatMap((u, i) =>
      edges.map((e, k) => ({ e, c: conn(`${u}-d${k}`, u, [`club:k${i % 3}`]) })),
    );
    for (const { e, c } of conns) e.connect(c);
    for (const e of edges) {
      e.heartbeat(
        conns.filter((x) => x.e === e).map((x) => x.c),
        10_000,
      );
    }
    await eventually(async () => {
      const counts = await Promise.all([0, 1, 2].map(async (k) => (await roomOf(a, `club:k${k}`)).online));
      return counts.every((n) => n === 40);
    });
    await new Promise((r) => setTimeout(r, 500)); // past the room window: joins are published
    for (const { e, c } of conns) e.disconnect(c);
    await eventually(
      async () => (await roomOf(b, 'club:k0')).online === 0 && (await roomOf(b, 'club:k2')).online === 0,
    );

    const events = await eventually(async () => {
      const evs = await readClubEvents(nc, iso);
      return evs.length >= 240 ? evs : false;
    }, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    const all = await readClubEvents(nc, iso);
    expect(all.length).toBe(events.length);
    const keys = all.map(
      (x) => `${x.event.type} ${(x.event.data as { userId: string }).userId} ${x.subject}`,
    );
    expect(new Set(keys).size).toBe(240);
    expect(keys.filter((k) => k.startsWith('club:member:connected')).length).toBe(120);
    expect(keys.filter((k) => k.startsWith('club:member:disconnected')).length).toBe(120);
    expect(new Set(all.map((x) => x.event.id)).size).toBe(240);
    // Both replicas did part of the work.
    const handled = async (svc: RunningService) => {
      const text = await (await fetch(`${svc.url}/metrics`)).text();
      return /crowncast_presence_messages_total\{kind="connect"\} (\d+)/.exec(text)?.[1];
    };
    expect(Number(await handled(a))).toBeGreaterThan(0);
    expect(Number(await handled(b))).toBeGreaterThan(0);
  });
});
