import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { type K8sObject, modelFor, overlays, render } from './lib/k8s.js';

/**
 * kustomize folds long base64 Secret values over several lines; the API server's base64 decoder
 * (Go encoding/base64) skips line breaks, the schema's "byte" format does not: unfold them first.
 */
function asApiServerReadsIt(obj: K8sObject): K8sObject {
  if (obj.kind !== 'Secret' || !obj.data) return obj;
  return {
    ...obj,
    data: Object.fromEntries(Object.entries(obj.data).map(([k, v]) => [k, v.replace(/\s+/g, '')])),
  };
}

// Every overlay renders with kustomize and every object it produces is valid against the
// Kubernetes OpenAPI schemas (kubernetes-models; ServiceMonitor from the prometheus-operator CRDs).
describe('kustomize overlays render to valid Kubernetes objects', async () => {
  const names = await overlays();

  it('has a dev and a prod overlay, and kubectl with kustomize to render them', () => {
    expect(names).toEqual(expect.arrayContaining(['dev', 'prod']));
    expect(execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8' })).toMatch(
      /Kustomize Version: v5/,
    );
  });

  for (const overlay of names) {
    it(`${overlay}: every rendered object passes its schema`, async () => {
      const objs = await render(overlay);
      expect(objs.length).toBeGreaterThan(20);
      const problems: string[] = [];
      for (const obj of objs) {
        const Model = await modelFor(obj);
        try {
          new Model(asApiServerReadsIt(obj)).validate();
        } catch (err) {
          problems.push(`${obj.kind}/${obj.metadata.name}: ${(err as Error).message}`);
        }
      }
      expect(problems).toEqual([]);
    });
  }

  it('the validator rejects a broken object (so a pass means something)', async () => {
    const bad = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: {
        selector: {},
        template: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 'http' }] }] } },
      },
    };
    const Model = await modelFor(bad as never);
    expect(() => new Model(bad).validate()).toThrow(/containerPort/);
  });
});
