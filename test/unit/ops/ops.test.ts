import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { createMetrics } from '../../../src/observability';

const root = path.join(__dirname, '..', '..', '..');
const known = new Set(
  (createMetrics({ defaultMetrics: false }).registry.getMetricsAsArray() as { name: string }[]).map((m) => m.name),
);

/** Metric names used in PromQL, without the histogram suffixes. */
function metricsIn(exprs: string[]): Set<string> {
  const names = new Set<string>();
  for (const e of exprs) {
    for (const m of e.matchAll(/\b((?:twilio|kafka|sms)_[a-z0-9_]+)/g))
      names.add(m[1]!.replace(/_(bucket|sum|count)$/, ''));
  }
  return names;
}

describe('ops/', () => {
  it('alert rules reference only metrics the service exports', () => {
    const rules = parse(readFileSync(path.join(root, 'ops/prometheus/alerts.yml'), 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const all = rules.groups.flatMap((g) => g.rules);
    const used = metricsIn(all.map((r) => r.expr));
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) expect(known).toContain(name);
    const names = all.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
  });

  it('the Grafana dashboard references only metrics the service exports', () => {
    const dashboard = JSON.parse(readFileSync(path.join(root, 'ops/grafana/ingress-egress.json'), 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const used = metricsIn(dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)));
    for (const name of used) expect(known).toContain(name);
    // Every exported metric is on the dashboard.
    for (const name of known) expect(used).toContain(name);
  });

  it('the check itself catches an unknown metric', () => {
    expect(metricsIn(['rate(twilio_nonexistent_total[5m])'])).toContain('twilio_nonexistent_total');
    expect(known).not.toContain('twilio_nonexistent_total');
  });
});
