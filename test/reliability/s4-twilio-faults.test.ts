import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FaultRule } from '@ingress-egress/twilio-simulator';
import { SmsEnvelopeBuilder } from '../../src/envelope';
import { DLQ_HEADERS } from '../../src/egress/dlq-record';
import { createEventPublisher } from '../../src/kafka/create-event-publisher';
import { silentLogger } from '../../src/observability';
import { onCleanup } from '../helpers/cleanup';
import { testConfig } from '../helpers/config';
import { startEgressBed } from '../helpers/egress-bed';
import { testBrokers } from '../helpers/kafka';
import { followTopics } from '../helpers/kafka-consumer';
import { brokerLabel } from './broker-label';
import { collectOutcomes, countOutcomes } from './egress-outcomes';
import { byMode, ensureBuilt, LOG_DIR, MODE, ServiceProcess, sleep, writeRow } from './harness';

jest.setTimeout(900_000);

const ACCOUNT = 'AC' + '4e'.repeat(16);
const TOKEN = 'rel-twilio-faults-token-0123456789';
const SENDER = '+14155550400';
const N = byMode(300, 2_000);
/** Requests written per second (the load runs N / RATE seconds). */
const RATE = byMode(15, 20);
/** The outage: from OUTAGE_AT after the load began, for OUTAGE_MS. */
const OUTAGE_AT = byMode(5_000, 20_000);
const OUTAGE_MS = byMode(15_000, 60_000);
const TIMEOUT_SECS = 2;
const RESET_SECS = 5;
const customer = (i: number) => `+1415${String(7_000_000 + i).padStart(7, '0')}`;

const CREATE = { resource: 'messages' as const, operation: 'create' as const };
/** The mix: seven kinds, 20 % of creates in all, in equal shares. */
const MIX: FaultRule[] = [
  { kind: 'rate-limit', retryAfterSeconds: 1 },
  { kind: 'server-error', status: 500 },
  { kind: 'server-error', status: 503 },
  { kind: 'reset', after: 'receive' },
  { kind: 'reset', after: 'create' },
  { kind: 'hang', after: 'receive' },
  { kind: 'hang', after: 'create' },
];
const SHARE = 0.2 / MIX.length;
/** Rules are tried in order and the first that fires wins: rule k fires with SHARE / (1 - k * SHARE). */
const mixRules = (): FaultRule[] => MIX.map((r, k) => ({ ...r, match: CREATE, probability: SHARE / (1 - k * SHARE) }));
/** The outage: every create fails before anything is created, half 503, half a reset connection. */
const OUTAGE: FaultRule[] = [
  { kind: 'server-error', status: 503, match: CREATE, probability: 0.5 },
  { kind: 'reset', after: 'receive', match: CREATE },
];

/** A create as the simulator logged it, named by fault kind (before or after the message was created). */
function kindOf(r: { fault: string | undefined; status: number | null; sid: string | undefined }): string {
  if (r.fault === undefined || r.fault === 'latency') return 'none';
  if (r.fault === 'server-error') return String(r.status);
  if (r.fault === 'rate-limit') return '429';
  return `${r.fault}-${r.sid ? 'after' : 'before'}-create`;
}

/**
 * Scenario 4. Egress requests written to Kafka at a steady rate, the built service sending them through the
 * simulator while 20 % of Messages creates fail (429 with Retry-After, 500, 503, a connection reset before or
 * after the message was created, no answer at all before or after it was created), and a full outage (every
 * create fails) in the middle: every request ends accepted exactly once (one message in the simulator, the one
 * its outcome names) or in the DLQ with its cause; the circuit opens during the outage, closes after it, and
 * egress resumes by itself.
 */
describe('reliability 4: Twilio faults', () => {
  beforeAll(() => ensureBuilt());

  it(`answers each of ${N} requests once through 20 % faults and a ${OUTAGE_MS / 1000} s outage`, async () => {
    const brokers = testBrokers();
    const { sim, topics, ...bed } = await startEgressBed(
      'rel-twilio-faults',
      {
        accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
        phoneNumbers: [{ phoneNumber: SENDER, accountSid: ACCOUNT }],
        autoProgress: false,
        seed: 'rel-twilio-faults',
      },
      brokers,
    );
    sim.faults.latency(20, { match: CREATE, jitterMs: 20 });
    let mixIds = mixRules().map((r) => sim.faults.add(r));
    const env = {
      ...bed.env,
      // Production retry back-off (200 ms doubling); the bed turns webhook validation off, production refuses that.
      TWILIO_WEBHOOK_VALIDATION: 'true',
      TWILIO_WEBHOOK_BASE_URL: 'https://sms.example.com',
      TWILIO_TIMEOUT_SECS: String(TIMEOUT_SECS),
      TWILIO_CIRCUIT_RESET_TIMEOUT_SECS: String(RESET_SECS),
    };
    const service = await ServiceProcess.create('twilio-faults', env);
    const reader = await followTopics([topics.outcomes, topics.egressDlq], { groupPrefix: 'rel-twilio-reader' });
    const producer = createEventPublisher(testConfig(env), { logger: silentLogger });
    onCleanup(() => producer.stop());
    await producer.start();
    service.start();
    await service.waitReady();
    await service.waitEgressAssigned();

    // The circuit's state as /metrics shows it, every 250 ms.
    const t0 = Date.now();
    const gauge: { atMs: number; state: number }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const text = await service.metricsText().catch(() => '');
        const line = text.split('\n').find((l) => l.startsWith('twilio_circuit_breaker_state '));
        const state = line ? Number(line.split(' ')[1]) : NaN;
        if (state !== gauge[gauge.length - 1]?.state) gauge.push({ atMs: Date.now() - t0, state });
        await sleep(250);
      }
    })();

    // The outage, in the middle of the load.
    let outageStart = 0;
    let outageEnd = 0;
    const outage = (async () => {
      await sleep(OUTAGE_AT);
      for (const id of mixIds) sim.faults.remove(id);
      const outageIds = OUTAGE.map((r) => sim.faults.add(r));
      outageStart = Date.now();
      await sleep(OUTAGE_MS);
      for (const id of outageIds) sim.faults.remove(id);
      mixIds = mixRules().map((r) => sim.faults.add(r));
      outageEnd = Date.now();
    })();

    // The load: N requests at RATE/s.
    const builder = new SmsEnvelopeBuilder();
    const requests = Array.from({ length: N }, (_, i) =>
      builder.build('sms.outbound.requested', {
        accountSid: ACCOUNT,
        subject: customer(i),
        data: { to: customer(i), body: `body-canary twilio faults ${i}` },
      }),
    );
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) {
      const due = t0 + (i * 1000) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      if (!service.running) throw new Error(`service exited:\n${service.output}`);
      writes.push(producer.publish(requests[i]!));
    }
    await Promise.all(writes);
    await outage;

    const outcomes = await collectOutcomes(reader, topics.outcomes, N, byMode(120_000, 600_000));
    const failedIds = new Set(outcomes.filter((o) => o.type !== 'sms.outbound.accepted').map((o) => o.causationId!));
    const dlqFor = (id: string) =>
      reader.records(topics.egressDlq).filter((r) => r.headers[DLQ_HEADERS.requestId] === id);
    await reader
      .until(topics.egressDlq, () => [...failedIds].every((id) => dlqFor(id).length > 0), 30_000)
      .catch(() => undefined);
    polling = false;
    await poller;
    await service.saveMetrics();
    await service.kill('SIGTERM');

    // Each request: one outcome id; accepted ones one message in the simulator (the one the outcome names) and no
    // DLQ record; the others a DLQ record with a code and a reason and no message.
    const { byRequest, withoutOutcome, twoOutcomeIds } = countOutcomes(requests, outcomes);
    const sentTo = new Map<string, string[]>();
    for (const m of sim.inspect.sent()) sentTo.set(m.to, [...(sentTo.get(m.to) ?? []), m.sid]);
    const createdTwice = [...sentTo.values()].filter((sids) => sids.length > 1).length;
    let accepted = 0;
    let inDlq = 0;
    const inconsistent: string[] = [];
    const dlqCodes: Record<string, number> = {};
    requests.forEach((req, i) => {
      const answers = byRequest.get(req.id);
      if (!answers) return;
      const o = answers[0]!;
      const sids = sentTo.get(customer(i)) ?? [];
      const dlq = dlqFor(req.id);
      if (o.type === 'sms.outbound.accepted') {
        accepted++;
        const sid = (o.data as { messageSid?: string }).messageSid;
        if (sids.length !== 1 || sids[0] !== sid || dlq.length > 0)
          inconsistent.push(`${req.id}: accepted as ${sid}, simulator ${sids.join(',') || 'none'}, dlq ${dlq.length}`);
      } else {
        inDlq++;
        const code = dlq[0]?.headers[DLQ_HEADERS.code];
        const reason = dlq[0]?.headers[DLQ_HEADERS.reason];
        if (code) dlqCodes[code] = (dlqCodes[code] ?? 0) + 1;
        if (!code || !reason || sids.length > 0)
          inconsistent.push(`${req.id}: ${o.type}, dlq code ${code ?? 'none'}, simulator ${sids.join(',') || 'none'}`);
      }
    });

    // The circuit: the service's log lines ("Twilio circuit open|half_open|closed") and the gauge.
    const logLines = readFileSync(path.join(LOG_DIR, 'twilio-faults.log'), 'utf8').split('\n');
    const circuit = logLines
      .map((l) => {
        try {
          return JSON.parse(l) as { msg?: string; time?: string };
        } catch {
          return {};
        }
      })
      .filter((e) => /^Twilio circuit \w+$/.test(e.msg ?? ''))
      .map((e) => ({ at: Date.parse(e.time!), state: e.msg!.replace('Twilio circuit ', '') }));
    const openedInOutage = circuit.some((c) => c.state === 'open' && c.at >= outageStart && c.at <= outageEnd);
    const closedAfter = circuit.find((c) => c.state === 'closed' && c.at > outageEnd);
    const lastState = circuit[circuit.length - 1]?.state ?? 'closed';
    const gaugeOpenInOutage = gauge.some(
      (g) => g.state === 2 && t0 + g.atMs >= outageStart && t0 + g.atMs <= outageEnd + 1_000,
    );
    const gaugeFinal = gauge[gauge.length - 1]?.state;

    // Recovery: from the outage's end to the first create the simulator answered 201.
    const creates = sim.inspect.requests({ operation: 'create' }).filter((r) => r.resource === 'messages');
    const firstSent = creates.find((r) => r.status === 201 && r.at.getTime() >= outageEnd);
    const recoveryMs = firstSent ? firstSent.at.getTime() - outageEnd : NaN;
    // The simulator logs a create when it answers, up to 40 ms (the latency rule) after it created the message: a
    // create received just before the outage began can be logged just after.
    const createdInOutage = creates.filter(
      (r) => r.sid !== undefined && r.at.getTime() >= outageStart + 1_000 && r.at.getTime() < outageEnd,
    ).length;
    const faultsByKind: Record<string, number> = {};
    for (const r of creates) {
      if (r.at.getTime() >= outageStart && r.at.getTime() < outageEnd) continue;
      const k = kindOf(r);
      if (k !== 'none') faultsByKind[k] = (faultsByKind[k] ?? 0) + 1;
    }
    // Openings outside the outage (the mix alone): the create verdicts the breaker saw just before each, in the
    // order it saw them (a create left hanging fails when the client gives up, TWILIO_TIMEOUT_SECS later).
    const verdicts = creates
      .map((r) => ({ at: r.at.getTime() + (r.fault === 'hang' ? TIMEOUT_SECS * 1000 : 0), kind: kindOf(r) }))
      .sort((a, b) => a.at - b.at);
    const openingsOutsideOutage = circuit
      .filter((c, i) => c.state === 'open' && circuit[i - 1]?.state !== 'half_open')
      .filter((c) => c.at < outageStart || c.at > outageEnd)
      .map((c) => ({
        atMs: c.at - t0,
        before: verdicts
          .filter((v) => v.at <= c.at + 100)
          .slice(-12)
          .map((v) => `${v.kind}@${v.at - c.at}ms`),
      }));
    // Stretches of 1 s or more with no create reaching the simulator while the circuit was closed (requests are
    // written every 50-70 ms): egress held up by something else than the breaker.
    const outsideTimes = creates
      .map((r) => r.at.getTime())
      .filter((t) => t < outageStart || t >= outageEnd)
      .sort((a, b) => a - b);
    const gaps = outsideTimes.slice(1).map((t, i) => ({ atMs: outsideTimes[i]! - t0, ms: t - outsideTimes[i]! }));
    // Periods the circuit held creates back (open until the next state change), and the outage.
    const heldBack = circuit
      .map((c, i) => ({ from: c.at, to: c.state === 'open' ? (circuit[i + 1]?.at ?? Infinity) : c.at }))
      .concat([{ from: outageStart, to: outageEnd }]);
    const stalls = gaps.filter(
      (g) => g.ms >= 1_000 && !heldBack.some((h) => t0 + g.atMs < h.to && t0 + g.atMs + g.ms > h.from && h.to > h.from),
    );
    const outsideOutage = creates.filter((r) => r.at.getTime() < outageStart || r.at.getTime() >= outageEnd).length;
    const faulted = Object.values(faultsByKind).reduce((a, b) => a + b, 0);
    const outageCreates = creates.length - outsideOutage;

    const pass =
      withoutOutcome === 0 &&
      twoOutcomeIds === 0 &&
      createdTwice === 0 &&
      inconsistent.length === 0 &&
      openedInOutage &&
      closedAfter !== undefined &&
      gaugeOpenInOutage &&
      createdInOutage === 0 &&
      firstSent !== undefined &&
      service.crashes === 0;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    writeRow({
      id: '4-twilio-faults',
      scenario: '4. Twilio faults',
      load: `${N} egress requests on Kafka at ${RATE}/s, Twilio create 20-40 ms, TWILIO_TIMEOUT_SECS=${TIMEOUT_SECS}, TWILIO_CIRCUIT_RESET_TIMEOUT_SECS=${RESET_SECS}`,
      faults:
        `${faulted} of ${outsideOutage} Messages creates outside the outage faulted (${Object.entries(faultsByKind)
          .sort()
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}; 20 % in equal shares); ` +
        `${s(OUTAGE_MS)} outage at ${s(OUTAGE_AT)} (every create 503 or reset before create: ${outageCreates} creates)` +
        (MODE === 'short' ? '; the long form runs a 60 s outage' : ''),
      lost: `${withoutOutcome} without outcome`,
      duplicated: `${createdTwice} recipients with two messages in the simulator; ${twoOutcomeIds} requests with two outcome ids; ${inconsistent.length} outcomes not matching the simulator or the DLQ`,
      crashes: service.crashes,
      recovery:
        `${firstSent ? s(recoveryMs) : 'never'} from the outage's end to the next accepted create; ` +
        `circuit ${openedInOutage ? 'opened during the outage' : 'did NOT open during the outage'}, ` +
        (closedAfter ? `closed ${s(closedAfter.at - outageEnd)} after it` : 'did NOT close after it') +
        ` (${openingsOutsideOutage.length} more openings outside the outage, from the mix alone)` +
        `; ${stalls.length} stalls of 1 s or more with the circuit closed${stalls.length ? ` (longest ${s(Math.max(...stalls.map((g) => g.ms)))})` : ''}` +
        `; ${accepted} accepted, ${inDlq} in the DLQ (${
          Object.entries(dlqCodes)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || 'none'
        })`,
      result: pass ? 'pass' : 'fail',
      broker: brokerLabel(brokers),
      details: {
        accepted,
        inDlq,
        dlqCodes,
        outcomeRecords: outcomes.length,
        messagesInSimulator: sim.inspect.sent().length,
        createsInOutageThatCreated: createdInOutage,
        circuitLog: circuit.map((c) => ({ atMs: c.at - t0, state: c.state })),
        outageMs: { start: outageStart - t0, end: outageEnd - t0 },
        gauge,
        gaugeOpenInOutage,
        // Not asserted: with no traffic left a circuit the last requests opened stays half-open (no probe comes).
        circuitAtEnd: { log: lastState, gauge: gaugeFinal },
        openingsOutsideOutage,
        stallsWithCircuitClosed: {
          count: stalls.length,
          longestMs: Math.max(0, ...stalls.map((g) => g.ms)),
          at: stalls,
        },
        inconsistent: inconsistent.slice(0, 20),
      },
    });
    expect(inconsistent).toEqual([]);
    expect(withoutOutcome).toBe(0);
    expect(twoOutcomeIds).toBe(0);
    expect(createdTwice).toBe(0);
    expect(createdInOutage).toBe(0);
    expect(openedInOutage).toBe(true);
    expect(gaugeOpenInOutage).toBe(true);
    expect(closedAfter).toBeDefined();
    expect(firstSent).toBeDefined();
    expect(service.crashes).toBe(0);
  });
});
