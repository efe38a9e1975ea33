import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { LOG_DIR, OUT_DIR, writeRow } from './harness';

/**
 * Scenario 8 (runs last): everything the services printed during the suite (build/reliability/logs) and every
 * /metrics snapshot the scenarios kept. 0 secrets (the auth tokens each service was given), 0 full phone
 * numbers, 0 message bodies (every body the suite sends carries the word body-canary), bounded series.
 */
const PHONE = /\+[1-9]\d{7,14}(?!\d)/g;
const MAX_SERIES_PER_METRIC = 200;

const files = (dir: string) =>
  existsSync(dir) ? readdirSync(dir).map((f) => ({ name: f, text: readFileSync(path.join(dir, f), 'utf8') })) : [];

describe('reliability 8: log and metric audit', () => {
  it('finds no secret, phone number or body in what the suite printed, and bounded metric series', () => {
    const logs = files(LOG_DIR);
    const metrics = files(path.join(OUT_DIR, 'metrics'));
    const secretsFile = path.join(OUT_DIR, 'secrets.txt');
    const secrets = [
      ...new Set(
        (existsSync(secretsFile) ? readFileSync(secretsFile, 'utf8') : '').split('\n').filter((s) => s.length > 0),
      ),
    ];
    const findings: string[] = [];
    let lines = 0;
    for (const f of [...logs, ...metrics]) {
      for (const line of f.text.split('\n')) {
        lines++;
        for (const s of secrets) if (line.includes(s)) findings.push(`${f.name}: secret`);
        const phones = line.match(PHONE);
        if (phones) findings.push(`${f.name}: phone number ${phones[0]!.slice(0, 4)}…`);
        if (line.includes('body-canary')) findings.push(`${f.name}: message body`);
      }
    }
    // Series per metric family, in every snapshot.
    let maxSeries = 0;
    let worst = '';
    for (const f of metrics) {
      const count = new Map<string, number>();
      for (const line of f.text.split('\n')) {
        if (line.startsWith('#') || line.trim() === '') continue;
        const name = line.split(/[{ ]/)[0]!.replace(/_(bucket|sum|count)$/, '');
        count.set(name, (count.get(name) ?? 0) + 1);
      }
      for (const [name, n] of count) {
        if (n > maxSeries) {
          maxSeries = n;
          worst = name;
        }
      }
    }
    const unbounded = maxSeries > MAX_SERIES_PER_METRIC;
    const pass = findings.length === 0 && !unbounded && logs.length > 0 && metrics.length > 0;
    writeRow({
      id: '8-audit',
      scenario: '8. Log and metric audit',
      load: `${logs.length} service logs and ${metrics.length} /metrics snapshots of this run, ${lines} lines`,
      faults: 'n/a',
      lost: 'n/a',
      duplicated: 'n/a',
      crashes: 0,
      recovery: 'n/a',
      result: pass ? 'pass' : 'fail',
      broker: 'n/a (reads the other scenarios’ output)',
      details: {
        secretsLookedFor: secrets.length,
        findings: findings.slice(0, 20),
        findingCount: findings.length,
        maxSeriesPerMetric: maxSeries,
        metricWithMostSeries: worst,
        seriesLimit: MAX_SERIES_PER_METRIC,
      },
    });
    expect(logs.length).toBeGreaterThan(0);
    expect(metrics.length).toBeGreaterThan(0);
    expect(findings).toEqual([]);
    expect(maxSeries).toBeLessThanOrEqual(MAX_SERIES_PER_METRIC);
  });
});
