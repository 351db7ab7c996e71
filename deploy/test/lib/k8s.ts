import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './services.js';

/** A rendered Kubernetes object, as plain data. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field by the tests
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export const K8S_DIR = join(REPO_ROOT, 'deploy/k8s');

export async function overlays(): Promise<string[]> {
  return (await readdir(join(K8S_DIR, 'overlays'))).sort();
}

export function parseYamlDocs(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** `kubectl kustomize` of an overlay (offline; Debian's kubectl ships kustomize v5). */
export async function render(overlay: string): Promise<K8sObject[]> {
  const { stdout } = await promisify(execFile)('kubectl', ['kustomize', join(K8S_DIR, 'overlays', overlay)], {
    maxBuffer: 32 * 1024 * 1024,
  });
  return parseYamlDocs(stdout);
}

/** The example Secrets operators copy; they stand in for Secrets an overlay does not generate. */
export async function exampleSecrets(): Promise<K8sObject[]> {
  const dir = join(K8S_DIR, 'examples');
  const docs: K8sObject[] = [];
  for (const f of (await readdir(dir)).filter((f) => f.endsWith('.yaml'))) {
    docs.push(...parseYamlDocs(await readFile(join(dir, f), 'utf8')));
  }
  return docs.filter((d) => d.kind === 'Secret');
}

type Validator = new (data: unknown) => { validate(): void };

/** The kubernetes-models class for an object, e.g. apps/v1 Deployment, or ServiceMonitor (CRD). */
export async function modelFor(obj: K8sObject): Promise<Validator> {
  const pkg = obj.apiVersion.startsWith('monitoring.coreos.com/')
    ? '@kubernetes-models/prometheus-operator'
    : 'kubernetes-models';
  const mod = (await import(`${pkg}/${obj.apiVersion}/${obj.kind}`)) as Record<string, Validator>;
  const model = mod[obj.kind];
  if (!model) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
  return model;
}

export const byKind = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind);

export function find(objs: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objs.find((o) => o.kind === kind && o.metadata.name === name);
}

/** True when every label of the selector is on the object's labels. */
export function matches(selector: Record<string, string> | undefined, labels: Record<string, string> = {}) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
  livenessProbe?: { httpGet?: { path: string; port: number | string } };
  startupProbe?: { httpGet?: { path: string; port: number | string } };
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

/** The Secret an overlay renders, or else the example of the same name (operator-created). */
export function secretData(
  objs: K8sObject[],
  examples: K8sObject[],
  name: string,
): Map<string, string> | undefined {
  const s = find(objs, 'Secret', name) ?? examples.find((e) => e.metadata.name === name);
  if (!s) return undefined;
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(s.data ?? {})) out.set(k, Buffer.from(v, 'base64').toString('utf8'));
  for (const [k, v] of Object.entries(s.stringData ?? {})) out.set(k, v);
  return out;
}

/** What a downward-API field resolves to in a pod, for checking the value against the schema. */
const FIELD_SAMPLE: Record<string, string> = { 'metadata.name': 'edge-5d8f7c9b6-x2x7q' };

/**
 * The environment a container gets, name -> value, resolved through the rendered ConfigMaps and
 * Secrets (or the example Secrets). Fails loudly on a reference to a key that does not exist.
 */
export function containerEnv(objs: K8sObject[], examples: K8sObject[], c: Container): Map<string, string> {
  const env = new Map<string, string>();
  const secret = (name: string) => {
    const data = secretData(objs, examples, name);
    if (!data) throw new Error(`${c.name}: Secret ${name} is neither rendered nor in deploy/k8s/examples`);
    return data;
  };
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = find(objs, 'ConfigMap', from.configMapRef.name);
      if (!cm) throw new Error(`${c.name}: envFrom ConfigMap ${from.configMapRef.name} is not rendered`);
      for (const [k, v] of Object.entries(cm.data ?? {})) env.set(k, v);
    }
    if (from.secretRef) for (const [k, v] of secret(from.secretRef.name)) env.set(k, v);
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    const field = e.valueFrom?.fieldRef?.fieldPath;
    if (ref) {
      const v = secret(ref.name).get(ref.key);
      if (v === undefined)
        throw new Error(`${c.name}: ${e.name} reads missing Secret key ${ref.name}/${ref.key}`);
      env.set(e.name, v);
    } else if (field) {
      const v = FIELD_SAMPLE[field];
      if (v === undefined) throw new Error(`${c.name}: ${e.name} reads unexpected field ${field}`);
      env.set(e.name, v);
    } else {
      env.set(e.name, e.value ?? '');
    }
  }
  return env;
}
