import { isolation, serviceUrls } from '@crowncast/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, type NatsConnection } from '../src/index.js';

// What patches/@nats-io__nats-core@3.4.0.patch changes must behave as nats.js documents it, on a
// real NATS server: a subscription's `closed` settles whether it was asked for before or after the
// close, and a request still answers, and still times out.
const iso = isolation();
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connectNats(serviceUrls.nats, 'nats-core-patch-test');
});
afterAll(async () => {
  await nc?.close();
});

describe('the patched nats-core', () => {
  it("settles a callback subscription's closed promise, asked for before or after the close", async () => {
    const early = nc.subscribe(`${iso.prefix}patch.early`, { callback: () => undefined });
    const asked = early.closed;
    early.unsubscribe();
    await expect(asked).resolves.toBeUndefined();

    const late = nc.subscribe(`${iso.prefix}patch.late`, { callback: () => undefined });
    late.unsubscribe();
    await expect(late.closed).resolves.toBeUndefined();
    expect(late.isClosed()).toBe(true);
  });

  it('delivers to a callback subscription and ends an iterator subscription', async () => {
    const got: string[] = [];
    const sub = nc.subscribe(`${iso.prefix}patch.cb`, {
      callback: (_err, m) => {
        got.push(m.string());
      },
    });
    const iter = nc.subscribe(`${iso.prefix}patch.iter`, { max: 2 });
    nc.publish(`${iso.prefix}patch.cb`, 'a');
    nc.publish(`${iso.prefix}patch.iter`, '1');
    nc.publish(`${iso.prefix}patch.iter`, '2');
    const seen: string[] = [];
    for await (const m of iter) seen.push(m.string());
    await nc.flush();
    expect(seen).toEqual(['1', '2']);
    await expect(iter.closed).resolves.toBeUndefined();
    expect(got).toEqual(['a']);
    sub.unsubscribe();
  });

  it('answers a request, and still times one out', async () => {
    const svc = nc.subscribe(`${iso.prefix}patch.echo`, {
      callback: (_err, m) => {
        m.respond(m.data);
      },
    });
    const reply = await nc.request(`${iso.prefix}patch.echo`, 'ping', { timeout: 2_000 });
    expect(reply.string()).toBe('ping');
    await expect(nc.request(`${iso.prefix}patch.nobody`, 'x', { timeout: 200 })).rejects.toThrow();
    svc.unsubscribe();
  });
});
