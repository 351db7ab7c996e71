import { describe, expect, it } from 'vitest';
import {
  byKind,
  type Container,
  containerEnv,
  exampleSecrets,
  find,
  type K8sObject,
  matches,
  overlays,
  render,
} from './lib/k8s.js';
import { defaultOf, EXPECTED_SERVICES, hasRoute, JWT_KEY_VARS, loadServices } from './lib/services.js';

// The manifests against the code: ports, probe paths, required variables, drain time and every
// name one object uses to find another. Facts come from services/<name>/src (config.ts env
// schemas and route paths), so edge and presence are checked as soon as their code exists.
const services = await loadServices();
const examples = await exampleSecrets();
const rendered = new Map<string, K8sObject[]>();
for (const o of await overlays()) rendered.set(o, await render(o));

const podLabels = (o: K8sObject): Record<string, string> => o.spec?.template?.metadata?.labels ?? {};
const containersOf = (o: K8sObject): Container[] => o.spec?.template?.spec?.containers ?? [];
const workloads = (objs: K8sObject[]) =>
  objs.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));

function portNumber(c: Container, port: number | string): number | undefined {
  return typeof port === 'number' ? port : c.ports?.find((p) => p.name === port)?.containerPort;
}

function preStopSeconds(c: Container): number {
  const p = c.lifecycle?.preStop;
  if (p?.sleep) return p.sleep.seconds;
  const cmd = p?.exec?.command ?? [];
  return cmd[0] === 'sleep' ? Number(cmd[1]) : 0;
}

describe('every service that exists is deployed', () => {
  it('covers ledger, edge and presence once their config.ts exists', () => {
    const names = services.map((s) => s.name);
    expect(names).toContain('ledger');
    for (const expected of EXPECTED_SERVICES) {
      if (names.includes(expected)) {
        for (const objs of rendered.values()) expect(find(objs, 'Deployment', expected)).toBeDefined();
      }
    }
  });
});

for (const [overlay, objs] of rendered) {
  describe(`${overlay} overlay`, () => {
    for (const svc of services) {
      describe(svc.name, () => {
        const deploy = find(objs, 'Deployment', svc.name);
        const c = deploy && containersOf(deploy).find((x) => x.name === svc.name);

        it('has a Deployment with a container named after the service', () => {
          expect(deploy).toBeDefined();
          expect(c).toBeDefined();
        });
        if (!deploy || !c) return;
        const env = containerEnv(objs, examples, c);

        it('listens on the port the container exposes and probes the health routes the service has', () => {
          const port = Number(env.get('PORT') ?? svc.defaultPort);
          expect(c.ports?.find((p) => p.name === 'http')?.containerPort).toBe(port);
          for (const [probe, path] of [
            [c.readinessProbe, '/health/ready'],
            [c.livenessProbe, '/health/live'],
          ] as const) {
            expect(probe?.httpGet?.path).toBe(path);
            expect(hasRoute(svc, path), `${svc.name} has no route ${path}`).toBe(true);
            expect(portNumber(c, probe!.httpGet!.port)).toBe(port);
          }
          if (c.startupProbe?.httpGet) expect(hasRoute(svc, c.startupProbe.httpGet.path)).toBe(true);
        });

        it('sets every variable the env schema requires, and only variables it reads', () => {
          for (const k of svc.required) expect(env.has(k), `${svc.name} needs ${k}`).toBe(true);
          for (const k of env.keys()) expect(svc.known.has(k), `${svc.name} does not read ${k}`).toBe(true);
          if (svc.known.has('JWT_SECRET')) {
            expect(
              JWT_KEY_VARS.filter((k) => env.has(k)),
              'exactly one of JWT_SECRET, JWT_JWKS_URL',
            ).toHaveLength(1);
          }
        });

        it('boots with these values: the env schema accepts them', () => {
          const parsed = svc.schema.safeParse(Object.fromEntries(env));
          expect(
            parsed.success ? [] : parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`),
          ).toEqual([]);
        });

        it('gives the pod time to finish its graceful drain', () => {
          const config = svc.schema.parse(Object.fromEntries(env)) as Record<string, unknown>;
          const drainMs = Number(config.SHUTDOWN_TIMEOUT_MS) + Number(config.DRAIN_SPREAD_MS ?? 0);
          const grace = deploy.spec.template.spec.terminationGracePeriodSeconds as number;
          expect(preStopSeconds(c)).toBeGreaterThanOrEqual(3);
          expect(grace).toBeGreaterThanOrEqual(preStopSeconds(c) + drainMs / 1000 + 5);
        });

        it('has resources, spreads over nodes and zones, and runs as non-root', () => {
          expect(c.resources?.requests?.cpu).toBeTruthy();
          expect(c.resources?.requests?.memory).toBeTruthy();
          expect(c.resources?.limits?.memory).toBeTruthy();
          const keys = (deploy.spec.template.spec.topologySpreadConstraints ?? []).map(
            (t: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }) => {
              expect(matches(t.labelSelector.matchLabels, podLabels(deploy))).toBe(true);
              return t.topologyKey;
            },
          );
          expect(keys).toEqual(
            expect.arrayContaining(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']),
          );
          expect(deploy.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
        });

        it('is reached through a Service, a PodDisruptionBudget and a ServiceMonitor that select it', () => {
          const service = byKind(objs, 'Service').find((s) => matches(s.spec.selector, podLabels(deploy)));
          expect(service).toBeDefined();
          for (const p of service!.spec.ports) expect(portNumber(c, p.targetPort)).toBeDefined();
          expect(
            byKind(objs, 'PodDisruptionBudget').some((p) =>
              matches(p.spec.selector.matchLabels, podLabels(deploy)),
            ),
          ).toBe(true);
          const sm = byKind(objs, 'ServiceMonitor').find((m) =>
            matches(m.spec.selector.matchLabels, service!.metadata.labels),
          );
          expect(sm).toBeDefined();
          for (const ep of sm!.spec.endpoints) {
            expect(service!.spec.ports.some((p: { name: string }) => p.name === ep.port)).toBe(true);
            expect(hasRoute(svc, ep.path)).toBe(true);
          }
        });
      });
    }

    it('every workload selector matches its pod labels', () => {
      for (const w of workloads(objs).filter((o) => o.kind !== 'Job')) {
        expect(matches(w.spec.selector.matchLabels, podLabels(w)), `${w.kind}/${w.metadata.name}`).toBe(true);
      }
    });

    it('every Service selects pods that expose its target ports', () => {
      for (const s of byKind(objs, 'Service')) {
        const pods = workloads(objs).filter((w) => matches(s.spec.selector, podLabels(w)));
        expect(pods.length, `Service ${s.metadata.name} selects nothing`).toBeGreaterThan(0);
        for (const p of s.spec.ports) {
          const exposed = pods.some((w) =>
            containersOf(w).some((c) => portNumber(c, p.targetPort) !== undefined),
          );
          expect(exposed, `Service ${s.metadata.name} port ${p.name}`).toBe(true);
        }
      }
    });

    it('the Ingress routes reach Service ports, paths the services serve, with no sticky sessions', () => {
      for (const ing of byKind(objs, 'Ingress')) {
        const annotations = Object.keys(ing.metadata.annotations ?? {});
        expect(annotations.filter((a) => /affinity|session-cookie|upstream-hash-by/.test(a))).toEqual([]);
        for (const path of ing.spec.rules.flatMap((r: { http: { paths: unknown[] } }) => r.http.paths)) {
          const backend = path.backend.service;
          const service = find(objs, 'Service', backend.name);
          expect(service, `Ingress backend ${backend.name}`).toBeDefined();
          expect(service!.spec.ports.some((p: { name: string }) => p.name === backend.port.name)).toBe(true);
          const svc = services.find((s) => s.name === backend.name);
          if (svc && path.path !== '/') {
            expect(
              svc.source.includes(`'${path.path}`),
              `${svc.name} serves nothing under ${path.path}`,
            ).toBe(true);
          }
        }
      }
    });

    it('the WebSocket Ingress keeps idle sockets open longer than the edge heartbeat', () => {
      const edgeSvc = services.find((s) => s.name === 'edge');
      const ws = byKind(objs, 'Ingress').find((i) =>
        i.spec.rules.some((r: { http: { paths: { backend: { service: { name: string } } }[] } }) =>
          r.http.paths.some((p) => p.backend.service.name === 'edge'),
        ),
      );
      expect(ws).toBeDefined();
      const heartbeatMs = edgeSvc ? Number(defaultOf(edgeSvc.schema, 'HEARTBEAT_INTERVAL_MS')) : 25_000;
      for (const a of ['proxy-read-timeout', 'proxy-send-timeout']) {
        const seconds = Number(ws!.metadata.annotations?.[`nginx.ingress.kubernetes.io/${a}`]);
        expect(seconds * 1000, a).toBeGreaterThanOrEqual(heartbeatMs * 10);
      }
    });

    it('HorizontalPodAutoscalers scale Deployments that exist, edge and ledger included', () => {
      const hpas = byKind(objs, 'HorizontalPodAutoscaler');
      for (const h of hpas)
        expect(find(objs, h.spec.scaleTargetRef.kind, h.spec.scaleTargetRef.name)).toBeDefined();
      expect(hpas.map((h) => h.spec.scaleTargetRef.name)).toEqual(expect.arrayContaining(['edge', 'ledger']));
    });

    it('the migrations Job runs the ledger CLI migrate command with the database URL', () => {
      const job = byKind(objs, 'Job').find(
        (j) => j.metadata.labels?.['app.kubernetes.io/component'] === 'migrations',
      );
      const c = job && containersOf(job)[0];
      expect(c?.command).toEqual(['node', 'dist/cli.js', 'migrate']);
      const ledgerDeploy = find(objs, 'Deployment', 'ledger');
      expect(c?.image).toBe(containersOf(ledgerDeploy!)[0]?.image);
      const ledger = services.find((s) => s.name === 'ledger')!;
      expect(ledger.source).toContain("command !== 'migrate'");
      expect(containerEnv(objs, examples, c!).get('DATABASE_URL')).toMatch(/^postgres:\/\//);
    });

    it('services reach NATS through a rendered Service, and the ROOMS replicas fit the cluster', () => {
      const nats = byKind(objs, 'StatefulSet').find(
        (s) => s.metadata.labels?.['app.kubernetes.io/name'] === 'nats',
      );
      expect(nats).toBeDefined();
      const ledgerDeploy = find(objs, 'Deployment', 'ledger')!;
      const ledger = services.find((s) => s.name === 'ledger')!;
      const config = ledger.schema.parse(
        Object.fromEntries(containerEnv(objs, examples, containersOf(ledgerDeploy)[0]!)),
      );
      expect(config.ROOMS_REPLICAS).toBeLessThanOrEqual(nats!.spec.replicas);
      if (overlay === 'prod') expect(config.ROOMS_REPLICAS).toBe(3);
      const url = new URL(String(config.NATS_URL));
      const service = find(objs, 'Service', url.hostname);
      expect(service?.spec.ports.some((p: { port: number }) => p.port === Number(url.port))).toBe(true);
    });
  });
}
