import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { createMetrics } from '../../../src/observability';

const root = path.join(__dirname, '..', '..', '..');
const known = new Set(
  (createMetrics({ defaultMetrics: false }).registry.getMetricsAsArray() as { name: string }[]).map((m) => m.name),
);

/** Metric names used in PromQL (not label values in quotes), without the histogram suffixes. */
function metricsIn(exprs: string[]): Set<string> {
  const names = new Set<string>();
  for (const e of exprs) {
    for (const m of e.matchAll(/(?<!["\w])((?:twilio|kafka|sms|voice|egress)_[a-z0-9_]+)/g))
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

  it('every alert has a promtool case that fires it and one that stays quiet (alerts.test.yml)', () => {
    const rules = parse(readFileSync(path.join(root, 'ops/prometheus/alerts.yml'), 'utf8')) as {
      groups: { rules: { alert: string }[] }[];
    };
    const tests = parse(readFileSync(path.join(root, 'ops/prometheus/alerts.test.yml'), 'utf8')) as {
      rule_files: string[];
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    expect(tests.rule_files).toEqual(['alerts.yml']);
    const evals = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of rules.groups.flatMap((g) => g.rules)) {
      const mine = evals.filter((e) => e.alertname === alert);
      expect({ alert, fires: mine.some((e) => e.exp_alerts.length > 0) }).toEqual({ alert, fires: true });
      expect({ alert, quiet: mine.some((e) => e.exp_alerts.length === 0) }).toEqual({ alert, quiet: true });
    }
  });

  it('the alerts the service was specified with are there, at their thresholds', () => {
    const rules = parse(readFileSync(path.join(root, 'ops/prometheus/alerts.yml'), 'utf8')) as {
      groups: { name: string; rules: { alert: string; expr: string; for?: string; labels: { severity: string } }[] }[];
    };
    const specified = rules.groups.find((g) => g.name === 'ingress-egress')!.rules;
    const summary = Object.fromEntries(
      specified.map((r) => [r.alert, `${r.for ?? '0m'} ${r.labels.severity} ${/>\s*[0-9.]+|== 2/.exec(r.expr)?.[0]}`]),
    );
    expect(summary).toEqual({
      IngressEgressHighErrorRate: '5m warning > 0.05',
      IngressEgressSendLatencyHigh: '5m warning > 2',
      IngressEgressWebhookLatencyHigh: '5m warning > 0.5',
      IngressEgressDeliveryFailureSpike: '10m warning > 0.2',
      IngressEgressCircuitOpen: '1m warning == 2',
      IngressEgressAuthFailures: '0m critical > 5',
      IngressEgressRateLimitWaits: '0m warning > 100',
      IngressEgressWebhookTimeouts: '5m warning > 0.01',
      IngressEgressAccountSuspended: '0m critical > 0',
    });
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

  it('every latency panel shows p95 beside its other quantiles (each histogram_quantile over a *_seconds metric)', () => {
    const dashboard = JSON.parse(readFileSync(path.join(root, 'ops/grafana/ingress-egress.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const missing: string[] = [];
    for (const panel of dashboard.panels) {
      const quantiles = new Map<string, Set<string>>();
      for (const { expr } of panel.targets) {
        const m = /histogram_quantile\(([0-9.]+),.*?\b(\w+_seconds)_bucket/.exec(expr);
        // A recording's length is a size, not a latency.
        if (!m || m[2]!.endsWith('_duration_seconds')) continue;
        const seen = quantiles.get(m[2]!) ?? new Set<string>();
        seen.add(m[1]!);
        quantiles.set(m[2]!, seen);
      }
      for (const [metric, seen] of quantiles) if (!seen.has('0.95')) missing.push(`${panel.title}: ${metric}`);
    }
    expect(missing).toEqual([]);
  });

  it('the check itself catches an unknown metric', () => {
    expect(metricsIn(['rate(twilio_nonexistent_total[5m])'])).toContain('twilio_nonexistent_total');
    expect(known).not.toContain('twilio_nonexistent_total');
  });
});
