import {
  cleanup,
  isolation,
  type RunningService,
  serviceEnv,
  spawnService,
  TEST_ADMIN_TOKEN,
  tokenFor,
} from '@crowncast/testkit';
import { WebSocket } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, startPresence, user } from './helpers.js';

interface Frame {
  type: string;
  id?: string;
  room?: string;
  data?: { userId?: string; clubId?: string };
  events?: Frame[];
}

/** A real WebSocket client of the edge that records every room event (batches unpacked). */
async function client(edge: RunningService, userId: string) {
  const ws = new WebSocket(`${edge.url.replace(/^http/, 'ws')}/ws?token=${await tokenFor(userId)}`);
  const frames: Frame[] = [];
  ws.addEventListener('message', (e) => {
    const f = JSON.parse(String(e.data)) as Frame;
    frames.push(...(f.type === 'batch' ? (f.events ?? []) : [f]));
  });
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error(`${userId} could not connect`)));
  });
  let n = 0;
  return {
    frames,
    async join(clubId: string) {
      const id = `j${++n}`;
      ws.send(JSON.stringify({ type: 'club:join', id, data: { clubId } }));
      const reply = await eventually(async () => frames.find((f) => f.id === id) ?? false);
      expect(reply.type).toBe('ack');
    },
    close: () => ws.close(),
  };
}

describe('presence behind a real edge', () => {
  const iso = isolation();
  let ledger: RunningService;
  let edge: RunningService;
  let presence: RunningService;

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${ledger.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? null : JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  };

  beforeAll(async () => {
    // The ledger migrates its schema, creates ROOMS and answers the edge's membership questions.
    ledger = await spawnService('services/ledger/src/server.ts', serviceEnv(iso, { RELAY_POLL_MS: '50' }));
    [edge, presence] = await Promise.all([
      spawnService(
        'services/edge/src/server.ts',
        serviceEnv(iso, { EDGE_ID: 'edge-real', PRESENCE_INTERVAL_MS: '300', DRAIN_SPREAD_MS: '0' }),
      ),
      startPresence(iso),
    ]);
    await admin('PUT', '/admin/clubs/cx', { name: 'Club X' });
    for (const u of ['ann', 'ben']) {
      await admin('PUT', `/admin/users/${u}`, { username: u });
      await admin('PUT', `/admin/clubs/cx/members/${u}`);
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all([presence?.stop(), edge?.stop('SIGKILL')]);
    await ledger?.stop();
    await cleanup(iso);
  });

  it('sees sockets come and go, and members of the club get connected/disconnected frames', async () => {
    const ben = await client(edge, 'ben');
    await ben.join('cx');
    await eventually(async () => (await user(presence, 'ben')).status === 'online');

    const ann = await client(edge, 'ann');
    await ann.join('cx');
    await eventually(async () => {
      const r = await api<{ data: { online: number; members: { userId: string }[] } }>(
        presence,
        '/presence/rooms/club:cx',
      );
      return r.body.data.online === 2;
    });
    // Ben's socket gets "ann joined" through presence → ROOMS stream → edge.
    await eventually(async () =>
      ben.frames.some((f) => f.type === 'club:member:connected' && f.data?.userId === 'ann'),
    );

    ann.close();
    await eventually(async () => (await user(presence, 'ann')).status === 'offline');
    await eventually(async () =>
      ben.frames.some((f) => f.type === 'club:member:disconnected' && f.data?.userId === 'ann'),
    );
    expect(
      ben.frames.filter((f) => f.type === 'club:member:connected' && f.data?.userId === 'ann').length,
    ).toBe(1);
  });

  it('shows the users of an edge that is killed offline within its expiry bound', async () => {
    await eventually(async () => (await user(presence, 'ben')).status === 'online');
    await edge.stop('SIGKILL');
    const killed = Date.now();
    await eventually(async () => (await user(presence, 'ben')).status === 'offline', 5000);
    // 3 missed heartbeats of 300 ms, plus a sweep tick and polling slack.
    expect(Date.now() - killed).toBeLessThanOrEqual(3 * 300 + 50 + 700);
  });
});
