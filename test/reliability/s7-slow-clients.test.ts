import net from 'node:net';
import { freePort } from '@ingress-egress/sandbox';
import { TwilioSimulator } from '@ingress-egress/twilio-simulator';
import { onCleanup } from '../helpers/cleanup';
import { createTestTopics, testBrokers, topicEnv, uniqueName } from '../helpers/kafka';
import { brokerLabel } from './broker-label';
import { byMode, ensureBuilt, percentile, ServiceProcess, sleep, writeRow } from './harness';

jest.setTimeout(600_000);

const ACCOUNT = 'AC' + '7c'.repeat(16);
const TOKEN = 'rel-slow-token-0123456789';
const BUSINESS = '+15557657000';
const SLOW = 500;
const PHASE_MS = byMode(12_000, 30_000);
const RATE = 20;

/**
 * Scenario 7. 500 slowloris connections (headers trickled a byte every 2 s, never finished) while signed
 * webhooks keep coming at 20/s: their p99 must stay close to the p99 measured without the attack in the same
 * run, and the server must drop the slow connections (headers timeout 10 s).
 */
describe('reliability 7: slow clients', () => {
  beforeAll(() => ensureBuilt());

  it('keeps webhook latency under 500 slowloris connections', async () => {
    const brokers = testBrokers();
    const topics = await createTestTopics('rel-slow', brokers);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const sim = new TwilioSimulator({
      accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
      phoneNumbers: [{ phoneNumber: BUSINESS, smsUrl: `${base}/webhooks/twilio/sms#rc=0` }],
      seed: 'rel-slow',
    });
    onCleanup(() => sim.stop());
    await sim.start();
    const service = await ServiceProcess.create(
      'slow-clients',
      {
        KAFKA_BROKERS: brokers.join(','),
        KAFKA_GROUP_ID: uniqueName('rel-slow'),
        ...topicEnv(topics),
        TWILIO_ACCOUNT_SID: ACCOUNT,
        TWILIO_AUTH_TOKEN: TOKEN,
        TWILIO_API_BASE_URL: sim.baseUrl,
        TWILIO_WEBHOOK_BASE_URL: base,
        TWILIO_PHONE_NUMBER: BUSINESS,
      },
      port,
    );
    service.start();
    await service.waitReady();

    let n = 0;
    const phase = async () => {
      const latencies: number[] = [];
      let failed = 0;
      const t0 = Date.now();
      const jobs: Promise<void>[] = [];
      for (let i = 0; Date.now() - t0 < PHASE_MS; i++) {
        const due = t0 + (i * 1000) / RATE;
        if (due > Date.now()) await sleep(due - Date.now());
        jobs.push(
          (async () => {
            const s = Date.now();
            const r = await sim.sendInbound({
              from: `+1415777${String(n++ % 10_000).padStart(4, '0')}`,
              to: BUSINESS,
              body: 'body-canary slow',
            });
            if (r.delivered) latencies.push(Date.now() - s);
            else failed++;
          })(),
        );
      }
      await Promise.all(jobs);
      return { latencies, failed };
    };
    await phase(); // warm-up
    const baseline = await phase();

    // The attack: each socket sends a request line and then a header byte every 2 s, never ending the headers.
    let closedByServer = 0;
    const opened: net.Socket[] = [];
    const attackStart = Date.now();
    const closeTimes: number[] = [];
    for (let i = 0; i < SLOW; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => {
        closedByServer++;
        closeTimes.push(Date.now() - attackStart);
      });
      s.write(`POST /webhooks/twilio/sms HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-${i}: `);
      opened.push(s);
    }
    const trickle = setInterval(() => {
      for (const s of opened) if (!s.destroyed) s.write('a');
    }, 2_000);
    onCleanup(() => {
      clearInterval(trickle);
      for (const s of opened) s.destroy();
    });
    const attacked = await phase();
    // Every slow socket closed by the server (headers timeout 10 s, request timeout 20 s), none by us.
    const waitUntil = attackStart + 45_000;
    while (closedByServer < SLOW && Date.now() < waitUntil) await sleep(200);
    clearInterval(trickle);
    const stillOpen = opened.filter((s) => !s.destroyed).length;
    const lastClose = closeTimes.length === SLOW ? Math.max(...closeTimes) : Infinity;
    for (const s of opened) s.destroy();
    await service.saveMetrics();
    await service.kill('SIGTERM');

    const p99Base = percentile(baseline.latencies, 0.99);
    const p99Attack = percentile(attacked.latencies, 0.99);
    // Twice the baseline or 150 ms more, whichever is larger: the machine is shared, and the p99 of a few hundred
    // requests moves by that much between two quiet phases (a long run measured 25 ms then 139 ms with equal
    // medians). Starved by the attack, webhooks would take seconds or time out, which this still catches.
    const limit = Math.max(p99Base * 2, p99Base + 150);
    const pass =
      p99Attack <= limit &&
      attacked.failed === 0 &&
      closedByServer === SLOW &&
      lastClose <= 20_000 &&
      service.crashes === 0;
    writeRow({
      id: '7-slow-clients',
      scenario: '7. Slow clients',
      load: `signed webhooks at ${RATE}/s, ${PHASE_MS / 1000} s per phase (baseline, then under attack)`,
      faults: `${SLOW} slowloris connections (a header byte every 2 s, never finished)`,
      lost: `${attacked.failed} webhooks failed under attack`,
      duplicated: 'n/a',
      crashes: service.crashes,
      recovery: `slow connections closed by the server at ${(percentile(closeTimes, 0.5) / 1000).toFixed(1)} s (median), ${(lastClose / 1000).toFixed(1)} s (last)`,
      result: pass ? 'pass' : 'fail',
      broker: brokerLabel(brokers),
      details: {
        p99BaselineMs: p99Base,
        p99UnderAttackMs: p99Attack,
        allowedP99Ms: Math.round(limit),
        p50BaselineMs: percentile(baseline.latencies, 0.5),
        p50UnderAttackMs: percentile(attacked.latencies, 0.5),
        webhooksBaseline: baseline.latencies.length,
        webhooksUnderAttack: attacked.latencies.length,
        slowConnectionsClosedByServer: closedByServer,
        stillOpenAfter45s: stillOpen,
        lastClosedAfterMs: lastClose,
      },
    });
    expect(attacked.failed).toBe(0);
    expect(p99Attack).toBeLessThanOrEqual(limit);
    expect(closedByServer).toBe(SLOW);
    // Within the request timeout (20 s); before the checking interval was set they stayed 30-40 s.
    expect(lastClose).toBeLessThanOrEqual(20_000);
    expect(service.crashes).toBe(0);
  });
});
