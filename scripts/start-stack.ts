import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { signDevToken } from '@crowncast/auth';

/**
 * `pnpm start`: the whole stack on this machine, each service its own process, against PostgreSQL,
 * NATS and Redis at their default local addresses (override with DATABASE_URL, NATS_URL, REDIS_URL).
 * Applies migrations and the demo seed first. Ctrl-C stops everything gracefully.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const dev = {
  JWT_SECRET: process.env.JWT_SECRET ?? 'crowncast-local-dev-secret-change-me-please',
  ADMIN_TOKEN: process.env.ADMIN_TOKEN ?? 'crowncast-local-admin-token-change-me',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
};
const env = { ...process.env, ...dev };
const edges = Number(process.env.STACK_EDGES ?? 1);

const services: { name: string; entry: string; port: number; extra?: Record<string, string> }[] = [
  { name: 'ledger', entry: 'services/ledger/src/server.ts', port: 3000 },
  ...Array.from({ length: edges }, (_, i) => ({
    name: edges > 1 ? `edge-${i + 1}` : 'edge',
    entry: 'services/edge/src/server.ts',
    port: 3001 + i * 10,
    extra: { EDGE_ID: `edge-${i + 1}` },
  })),
  { name: 'presence', entry: 'services/presence/src/server.ts', port: 3002 },
].filter((s) => existsSync(root + s.entry));

const say = (name: string, line: string) => process.stdout.write(`${name.padEnd(9)} | ${line}\n`);

say('stack', 'applying migrations and the demo seed');
const seeded = spawnSync(process.execPath, ['--import', 'tsx', 'services/ledger/src/db/cli.ts', 'seed'], {
  cwd: root,
  env,
  stdio: 'inherit',
});
if (seeded.status !== 0) {
  say('stack', 'seeding failed: are PostgreSQL, NATS and Redis running? (see README "Quick start")');
  process.exit(1);
}

const children: ChildProcess[] = [];
for (const s of services) {
  const child = spawn(process.execPath, ['--import', 'tsx', s.entry], {
    cwd: root,
    env: { ...env, PORT: String(s.port), ...(s.extra ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  for (const stream of [child.stdout!, child.stderr!])
    createInterface({ input: stream }).on('line', (l) => say(s.name, l));
  child.on('exit', (code, signal) => {
    say(s.name, `exited (${signal ?? code})`);
    if (!stopping) stop(1);
  });
}

const token = await signDevToken({ secret: dev.JWT_SECRET, sub: 'alice', expiresInSec: 24 * 3600 });
say('stack', `ledger   http://127.0.0.1:3000 (OpenAPI: /docs)`);
for (const s of services.filter((x) => x.name.startsWith('edge')))
  say('stack', `${s.name.padEnd(8)} ws://127.0.0.1:${s.port}/ws`);
if (services.some((s) => s.name === 'presence')) say('stack', 'presence http://127.0.0.1:3002');
say('stack', `admin token: ${dev.ADMIN_TOKEN}`);
say('stack', `a token for the demo user alice (24 h): ${token}`);
say(
  'stack',
  `try: curl -s -XPOST localhost:3000/clubs/club_demo/gifts/send -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"giftId":"gift_rose"}'`,
);

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  say('stack', 'stopping');
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 12_000).unref();
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null))).then(
    () => process.exit(code),
  );
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
