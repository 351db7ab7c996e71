import { type Isolation, ledgerApi, serviceEnv } from '@crowncast/testkit';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadLedgerConfig } from '../src/config.js';

/** A ledger app on a real port for one test file's isolation. */
export async function startLedger(
  iso: Isolation,
  env: Record<string, string> = {},
): Promise<{ app: FastifyInstance; url: string }> {
  const config = loadLedgerConfig({ ...serviceEnv(iso), ...env });
  const app = await buildApp({ config, fastify: { logger: { level: 'warn' } } });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url };
}

/** The ledger's HTTP API (testkit's ledgerApi, under the name these tests use). */
export const client = ledgerApi;
export { eventually, natsConnect, type Reply, readStream, type StreamedEvent } from '@crowncast/testkit';
