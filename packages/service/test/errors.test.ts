import { randomBytes } from 'node:crypto';
import { serviceUrls } from '@crowncast/testkit';
import Fastify from 'fastify';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../src/errors.js';

/**
 * What a request gets when PostgreSQL goes away under it: a restart terminates every backend
 * (SQLSTATE 57P01) and refuses connections while it starts (57P03). Both are "retry later" (503 with
 * Retry-After and the service's UNAVAILABLE code), never a 500. Both are real here: the route's own
 * backend is ended by PostgreSQL, and a role without connection slots is refused by it.
 */
describe('the error handler, when PostgreSQL goes away mid-request', () => {
  const sql = postgres(serviceUrls.database, { max: 1, onnotice: () => undefined });
  afterAll(() => sql.end({ timeout: 1 }));

  it('answers 503 LEDGER_UNAVAILABLE with Retry-After, not 500, on a terminated backend (57P01)', async () => {
    const victim = postgres(serviceUrls.database, { max: 1, onnotice: () => undefined });
    const app = Fastify({ logger: false });
    await app.register(errorHandler, { prefix: 'LEDGER', unavailable: 'retry' });
    app.get('/terminated', async () => {
      // What a restart does to every pooled connection; the query after it fails with 57P01.
      await victim`select pg_terminate_backend(pg_backend_pid())`.catch(() => undefined);
      await victim`select 1`;
      return { ok: true };
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/terminated' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({ success: false, error: { code: 'LEDGER_UNAVAILABLE' } });
    } finally {
      await app.close();
      await victim.end({ timeout: 1 });
    }
  });

  it('answers 503 when PostgreSQL refuses the connection (SQLSTATE 53300, as 57P03 while it restarts)', async () => {
    const role = `crowncast_no_slots_${randomBytes(4).toString('hex')}`;
    await sql.unsafe(`create role ${role} login connection limit 0`);
    const url = new URL(serviceUrls.database);
    url.username = role;
    const refused = postgres(url.toString(), { max: 1, connect_timeout: 5 });
    try {
      const app = Fastify({ logger: false });
      await app.register(errorHandler, { prefix: 'LEDGER', unavailable: 'retry' });
      app.get('/refused', async () => {
        await refused`select 1`;
        return { ok: true };
      });
      const res = await app.inject({ method: 'GET', url: '/refused' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ success: false, error: { code: 'LEDGER_UNAVAILABLE' } });
      await app.close();
    } finally {
      await refused.end({ timeout: 1 });
      await sql.unsafe(`drop role ${role}`);
    }
  });

  it('still answers 500 LEDGER_INTERNAL for an error that is not a dependency being down', async () => {
    const app = Fastify({ logger: false });
    await app.register(errorHandler, { prefix: 'LEDGER', unavailable: 'retry' });
    app.get('/bug', async () => {
      await sql`select 1 / 0`;
      return { ok: true };
    });
    const res = await app.inject({ method: 'GET', url: '/bug' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ success: false, error: { code: 'LEDGER_INTERNAL' } });
    await app.close();
  });
});
