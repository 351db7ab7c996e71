import { presenceSubject } from '@crowncast/protocol';
import { tokenFor } from '@crowncast/testkit';
import { describe, expect, it } from 'vitest';
import { api, conn, eventually, fakeEdge, metric, usePresence, user } from './helpers.js';

const DROPPED = 'crowncast_presence_messages_dropped_total';

describe('bad input', () => {
  const fx = usePresence();

  it('drops and counts malformed edge messages, and keeps processing good ones', async () => {
    const hb = presenceSubject('heartbeat', 'edge-bad', fx.iso.prefix);
    const good = { edgeId: 'edge-bad', intervalMs: 10_000, sentAt: Date.now(), chunk: 0, chunks: 1 };
    fx.nc.publish(hb, 'not json {');
    fx.nc.publish(
      hb,
      JSON.stringify({ ...good, connections: [{ connectionId: 'x', userId: 'bad.id', rooms: [] }] }),
    );
    fx.nc.publish(hb, JSON.stringify({ ...good, chunk: 3, chunks: 2, connections: [] }));
    fx.nc.publish(hb, JSON.stringify({ ...good, connections: [conn('x', 'u1', ['nowhere:1'])] }));
    fx.nc.publish(hb, JSON.stringify({ ...good, intervalMs: -5, connections: [] }));
    fx.nc.publish(hb, JSON.stringify({ ...good, edgeId: 'someone-else', connections: [] }));
    fx.nc.publish(
      presenceSubject('connect', 'edge-bad', fx.iso.prefix),
      JSON.stringify({ edgeId: 'edge-bad' }),
    );
    fx.nc.publish(`${fx.iso.prefix}presence.teleport.edge-bad`, JSON.stringify(good));
    fx.nc.publish(`${fx.iso.prefix}presence.heartbeat`, JSON.stringify(good));
    fx.nc.publish(hb, new Uint8Array([0xff, 0xfe, 0x00]));

    await eventually(async () => (await metric(fx.svc, DROPPED)) === 10);
    expect(await metric(fx.svc, DROPPED, { reason: 'invalid_json' })).toBe(2);
    expect(await metric(fx.svc, DROPPED, { reason: 'invalid_schema' })).toBe(5);
    expect(await metric(fx.svc, DROPPED, { reason: 'edge_mismatch' })).toBe(1);
    expect(await metric(fx.svc, DROPPED, { reason: 'unknown_subject' })).toBe(2);

    fakeEdge(fx.nc, fx.iso.prefix, 'edge-bad').connect(conn('ok-1', 'okuser'));
    await eventually(async () => (await user(fx.svc, 'okuser')).status === 'online');
    expect(fx.svc.proc.exitCode).toBeNull();
    expect(await user(fx.svc, 'u1')).toMatchObject({ status: 'offline', devices: 0 });
  });

  it('counts a connection listed twice in one heartbeat once', async () => {
    const e = fakeEdge(fx.nc, fx.iso.prefix, 'edge-dup');
    const c = conn('dup-1', 'dupuser', ['club:dup']);
    e.heartbeat([c, c, { ...c, lastActivityAt: c.lastActivityAt + 1 }], 10_000);
    const count = async () =>
      (await api<{ data: { online: number } }>(fx.svc, '/presence/rooms/club:dup')).body.data.online;
    await eventually(async () => (await count()) === 1);
    e.disconnect(c);
    await eventually(async () => (await user(fx.svc, 'dupuser')).status === 'offline');
    expect(await count()).toBe(0);
  });

  it('answers bad REST requests with a 4xx and a PRESENCE_ or AUTH_ code, never a 500', async () => {
    const cases: [string, Parameters<typeof api>[2], number, string][] = [
      ['/presence/users/bad.id', {}, 400, 'PRESENCE_VALIDATION_FAILED'],
      ['/presence/users:batch', { method: 'POST', body: { userIds: [] } }, 400, 'PRESENCE_VALIDATION_FAILED'],
      [
        '/presence/users:batch',
        { method: 'POST', body: { userIds: Array.from({ length: 501 }, (_, i) => `u${i}`) } },
        400,
        'PRESENCE_VALIDATION_FAILED',
      ],
      ['/presence/users:batch', { method: 'POST', body: 'nope' }, 400, 'PRESENCE_VALIDATION_FAILED'],
      ['/presence/rooms/lobby:1', {}, 400, 'PRESENCE_VALIDATION_FAILED'],
      ['/presence/rooms/club:a?limit=0', {}, 400, 'PRESENCE_VALIDATION_FAILED'],
      ['/presence/rooms/club:a?cursor=a%20b', {}, 400, 'PRESENCE_VALIDATION_FAILED'],
      ['/presence/online/count', { token: null }, 401, 'AUTH_TOKEN_MISSING'],
      ['/presence/online/count', { token: 'abc.def.ghi' }, 401, 'AUTH_TOKEN_INVALID'],
      [
        '/presence/online/count',
        { token: await tokenFor('x', { secret: 'another-secret-0123456789abcdefgh' }) },
        401,
        'AUTH_TOKEN_INVALID',
      ],
      ['/presence/nothing', {}, 404, 'PRESENCE_ROUTE_NOT_FOUND'],
    ];
    for (const [path, opts, status, code] of cases) {
      const r = await api<{ success: boolean; error: { code: string; message: string } }>(fx.svc, path, opts);
      expect({ path, status: r.status, code: r.body.error?.code }).toEqual({ path, status, code });
      expect(r.body.success).toBe(false);
    }
    const auth = { authorization: `Bearer ${await tokenFor('x')}` };
    const post = (body: string, type: string) =>
      fetch(`${fx.svc.url}/presence/users:batch`, {
        method: 'POST',
        headers: { ...auth, 'content-type': type },
        body,
      });
    const big = await post(JSON.stringify({ userIds: ['a'], pad: 'x'.repeat(100_000) }), 'application/json');
    expect([big.status, ((await big.json()) as { error: { code: string } }).error.code]).toEqual([
      413,
      'PRESENCE_PAYLOAD_TOO_LARGE',
    ]);
    const text = await post('<userIds/>', 'application/xml');
    expect([text.status, ((await text.json()) as { error: { code: string } }).error.code]).toEqual([
      415,
      'PRESENCE_UNSUPPORTED_MEDIA_TYPE',
    ]);
    for (const path of ['/presence/users/%00', '/presence/rooms/club:%00x', '/presence/rooms/%E0%A4%A']) {
      const r = await fetch(`${fx.svc.url}${path}`, { headers: auth });
      expect({ path, status: r.status }).toEqual({ path, status: 400 });
    }
    const raw = await fetch(`${fx.svc.url}/presence/users:batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenFor('x')}`, 'content-type': 'application/json' },
      body: '{"userIds": [',
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { code: string } }).error.code).toMatch(/^PRESENCE_/);
  });

  it('serves health, metrics and the OpenAPI document', async () => {
    expect((await fetch(`${fx.svc.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${fx.svc.url}/health/ready`);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { nats: true, redis: true } });
    const doc = (await (await fetch(`${fx.svc.url}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/presence/users/{userId}',
        '/presence/users:batch',
        '/presence/rooms/{room}',
        '/presence/online/count',
      ]),
    );
    expect(await (await fetch(`${fx.svc.url}/metrics`)).text()).toContain('crowncast_presence_online_users');
  });
});
