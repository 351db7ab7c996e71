import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServices, metricNames, REPO_ROOT } from './lib/services.js';

// The Grafana dashboard only charts metrics the services really export, so a renamed metric
// shows up here instead of as an empty panel in production.
interface Panel {
  title: string;
  targets: { expr: string }[];
}

const dashboard = JSON.parse(
  await readFile(join(REPO_ROOT, 'deploy/k8s/base/grafana/crowncast-dashboard.json'), 'utf8'),
) as { panels: Panel[] };
const services = await loadServices();
const exported = new Set(services.flatMap((s) => [...metricNames(s)]));

/** Series a histogram or counter exposes besides its own name. */
const baseName = (series: string) => series.replace(/_(bucket|sum|count)$/, '');

describe('Grafana dashboard', () => {
  it('finds the metrics the services register (the lookup itself works)', () => {
    expect(exported).toContain('crowncast_ledger_outbox_oldest_seconds');
    expect(exported.size).toBeGreaterThan(5);
  });

  it('charts connections, delivery latency, gifts/s, outbox lag and presence', () => {
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join('\n');
    for (const t of ['connections', 'delivery latency', 'gifts', 'outbox', 'presence'])
      expect(titles).toContain(t);
  });

  it('every crowncast_ metric a panel queries is exported by a service', () => {
    const missing: string[] = [];
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        for (const [series] of expr.matchAll(/crowncast_[a-z0-9_]+/g)) {
          if (!exported.has(series) && !exported.has(baseName(series)))
            missing.push(`${panel.title}: ${series}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
