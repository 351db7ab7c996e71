import { animationPlayedSubject, deliveryReportSubject, presenceOnlineSubject } from '@crowncast/protocol';
import { cleanup, isolation } from '@crowncast/testkit';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, natsConnect, startLedger } from './harness.js';

/** Edges report deliveries and animation plays on NATS; the ledger records them. */
const iso = isolation();
let ledger: Awaited<ReturnType<typeof startLedger>>;
let nc: NatsConnection;
let gtx = '';

beforeAll(async () => {
  ledger = await startLedger(iso, { ANALYTICS_FLUSH_MS: '20' });
  nc = await natsConnect();
  const api = client(ledger.url);
  await api.gift('g_rose', 20);
  const alice = await api.user('alice', 100);
  await api.user('bob');
  await api.club('club1', ['alice', 'bob']);
  const r = await api.call<{ giftTransactionId: string }>('POST', '/clubs/club1/gifts/send', {
    token: alice,
    body: { giftId: 'g_rose' },
  });
  gtx = r.body.success ? r.body.data.giftTransactionId : '';
});

afterAll(async () => {
  await nc?.close();
  await ledger?.app.close();
  await cleanup(iso);
});

describe('delivery analytics', () => {
  it("records each edge's delivery report and adds its sockets to the gift's recipient count", async () => {
    const now = Date.now();
    for (const [edgeId, sockets] of [
      ['edge-a', 3],
      ['edge-b', 2],
    ] as const) {
      nc.publish(
        deliveryReportSubject(iso.prefix),
        JSON.stringify({
          edgeId,
          reports: [
            {
              eventId: `${gtx}.0`,
              type: 'gift:received',
              room: 'club:club1',
              sockets,
              writtenAt: now,
              latencyMs: 4.2,
            },
          ],
        }),
      );
    }
    const rows = await eventually(async () => {
      const r = await ledger.app.sql<{ server_id: string; recipient_count: number }[]>`
        SELECT server_id, recipient_count FROM websocket_events WHERE event_id = ${`${gtx}.0`} ORDER BY server_id`;
      return r.length === 2 ? r : null;
    });
    expect(rows).toEqual([
      { server_id: 'edge-a', recipient_count: 3 },
      { server_id: 'edge-b', recipient_count: 2 },
    ]);
    const [tx] = await ledger.app.sql<
      { websocket_recipient_count: number }[]
    >`SELECT websocket_recipient_count FROM gift_transactions WHERE id = ${gtx}`;
    expect(tx?.websocket_recipient_count).toBe(5);
  });

  it('records animation plays, skips unknown gifts, drops and counts malformed reports', async () => {
    nc.publish(animationPlayedSubject(iso.prefix), 'not json');
    nc.publish(
      animationPlayedSubject(iso.prefix),
      JSON.stringify({ edgeId: 'edge-a', plays: [{ completed: 'yes' }] }),
    );
    nc.publish(
      animationPlayedSubject(iso.prefix),
      JSON.stringify({
        edgeId: 'edge-a',
        plays: [
          {
            giftTransactionId: gtx,
            userId: 'bob',
            playedAt: Date.now(),
            durationMs: 3000,
            completed: true,
            platform: 'ios',
            appVersion: '1.2.3',
          },
          { giftTransactionId: 'gtx_unknown', userId: 'bob', playedAt: Date.now(), completed: false },
        ],
      }),
    );
    const plays = await eventually(async () => {
      const r = await ledger.app.sql<{ user_id: string; completed: boolean; platform: string }[]>`
        SELECT user_id, completed, platform FROM gift_animation_plays`;
      return r.length ? r : null;
    });
    expect(plays).toEqual([{ user_id: 'bob', completed: true, platform: 'ios' }]);
    const metrics = await fetch(`${ledger.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/crowncast_ledger_analytics_dropped_total 2/);
  });
});

describe("presence's room counts", () => {
  it('keep clubs.active_websocket_connections equal to the online count presence reports', async () => {
    nc.publish(
      presenceOnlineSubject(iso.prefix),
      JSON.stringify({ at: Date.now(), rooms: [{ room: 'club:club1', online: 7 }] }),
    );
    nc.publish(presenceOnlineSubject(iso.prefix), 'garbage');
    const count = async () =>
      (
        await ledger.app.sql<
          { n: number }[]
        >`SELECT active_websocket_connections AS n FROM clubs WHERE id = 'club1'`
      )[0]?.n;
    await eventually(async () => (await count()) === 7);
    nc.publish(
      presenceOnlineSubject(iso.prefix),
      JSON.stringify({ at: Date.now(), rooms: [{ room: 'club:club1', online: 0 }] }),
    );
    await eventually(async () => (await count()) === 0);
  });
});
