import type { InternalEventV2 } from '../../../src/envelope';
import { DLQ_HEADERS } from '../../../src/egress/dlq-record';
import type { TwilioEgressHandler } from '../../../src/twilio/egress/twilio-egress-handler';
import type { CircuitState } from '../../../src/resilience';
import { ACCOUNT, customer, egressConsumerOf, startEgressEnv, waitFor } from './egress-env';
import { SendTrace } from './send-trace';

jest.setTimeout(180_000);

const create = { operation: 'create' as const };

describe('egress under Twilio faults', () => {
  it('with 20 % injected 429/5xx/timeouts/resets, ends every request accepted exactly once or failed in the DLQ, and never texts twice', async () => {
    const env = await startEgressEnv({
      env: { TWILIO_CIRCUIT_RESET_TIMEOUT_SECS: '1', TWILIO_TIMEOUT_SECS: '2' },
    });
    const f = env.sim.faults;
    f.rateLimit({ match: create, probability: 0.06, retryAfterSeconds: 1 });
    f.serverError({ match: create, probability: 0.03, status: 500 });
    f.serverError({ match: create, probability: 0.03, status: 503 });
    f.hang({ match: create, probability: 0.03, after: 'create' });
    f.hang({ match: create, probability: 0.01, after: 'receive' });
    f.connectionReset({ match: create, probability: 0.03, after: 'create' });
    f.connectionReset({ match: create, probability: 0.01, after: 'receive' });
    const N = 400;
    const requests = Array.from({ length: N }, (_, i) => env.request({ to: customer(i), body: `message ${i}` }));
    await Promise.all(requests.map((r) => env.producer.publish(r)));
    const server = env.service();
    const trace = new SendTrace(env, server);
    await server.start();

    const outcomes = env.events(await env.read(env.topics.outcomes, N, 150_000));
    // A recipient texted more than once is the worst failure: say everything about it before any other assertion.
    const twice = requests.flatMap((_, i) => (env.sim.inspect.sentTo(customer(i)).length > 1 ? [customer(i)] : []));
    const stories = await Promise.all(twice.map((to) => trace.explain(to, outcomes)));
    expect(stories).toEqual([]);
    await waitFor(() => egressConsumerOf(server).stats().handled === N, 30_000, 'all handled');
    expect(await env.count(env.topics.outcomes)).toBe(N);
    const faulted = env.sim.inspect.stats().faulted;
    const creates = env.sim.inspect.requests({ operation: 'create' }).length;
    // The faults really fired at about the rate asked for.
    expect(faulted / creates).toBeGreaterThan(0.12);

    const byRequest = new Map<string, InternalEventV2>();
    for (const o of outcomes) {
      expect(byRequest.has(o.causationId!)).toBe(false);
      byRequest.set(o.causationId!, o);
    }
    const dlq = await env.read(env.topics.egressDlq, await env.count(env.topics.egressDlq));
    const dlqIds = new Set(dlq.map((r) => r.headers[DLQ_HEADERS.requestId]));
    let accepted = 0;
    for (const [i, r] of requests.entries()) {
      const o = byRequest.get(r.id);
      expect(o).toBeDefined();
      if (o!.type === 'sms.outbound.accepted') {
        accepted++;
        const sent = env.sim.inspect.sentTo(customer(i));
        expect(sent).toHaveLength(1);
        expect(sent[0]!.sid).toBe(o!.data.messageSid);
      } else {
        expect(o!.type).toBe('sms.outbound.failed');
        expect(dlqIds.has(r.id)).toBe(true);
        expect(env.sim.inspect.sentTo(customer(i))).toHaveLength(0);
      }
    }
    for (const r of dlq) expect(r.headers[DLQ_HEADERS.code]).toMatch(/TWILIO_/);
    expect(env.sim.inspect.duplicateCount()).toBe(0);
    expect(accepted).toBeGreaterThan(N * 0.95);
  });

  it('opens the circuit after the threshold, pauses consumption, probes half-open, and recovers without the DLQ', async () => {
    const THRESHOLD = 3;
    const env = await startEgressEnv({
      env: {
        TWILIO_CIRCUIT_FAILURE_THRESHOLD: String(THRESHOLD),
        TWILIO_CIRCUIT_RESET_TIMEOUT_SECS: '1',
        EGRESS_MAX_ATTEMPTS: '3',
      },
    });
    const outage = env.sim.faults.serverError({ match: create, status: 503 });
    const N = 20;
    for (let i = 0; i < N; i++)
      await env.producer.publish(env.request({ to: customer(i), body: `during outage ${i}` }));
    const server = env.service();
    await server.start();
    const handler = server.connectors.get('twilio')!.egress as TwilioEgressHandler;
    // Every transition, however brief: a half-open probe that fails is over within a millisecond or two.
    const states: CircuitState[] = [handler.deps.circuits.for(ACCOUNT).state];
    const unsubscribe = handler.deps.circuits.subscribe((account, state) => {
      if (account === ACCOUNT) states.push(state);
    });
    try {
      await waitFor(() => states.includes('open'), 30_000, 'circuit open');
      await waitFor(() => egressConsumerOf(server).stats().paused, 5_000, 'consumption paused');
      // Two reset timeouts: probes go out half-open and fail, the circuit opens again.
      await waitFor(() => states.filter((s) => s === 'half_open').length >= 2, 10_000, 'two probes');
      expect(await env.count(env.topics.outcomes)).toBe(0);
      expect(await env.count(env.topics.egressDlq)).toBe(0);
      const probes = states.filter((s) => s === 'half_open').length;
      const createsDuringOutage = env.sim.inspect.requests({ operation: 'create' }).length;
      // Paused, not hammering: at most one attempt per request (all N may be in flight when the circuit
      // opens), plus the retries of the requests that failed first, before the threshold's last failure came
      // back (at most threshold − 1; a loaded machine spreads the first answers out by more than the 5 ms test
      // back-off), plus one create per half-open probe; not N × attempts.
      expect(createsDuringOutage).toBeLessThanOrEqual(N + (THRESHOLD - 1) + probes);
      expect(createsDuringOutage).toBeLessThan(N * 3);

      env.sim.faults.remove(outage);
      const outcomes = env.events(await env.read(env.topics.outcomes, N));
      expect(outcomes.every((o) => o.type === 'sms.outbound.accepted')).toBe(true);
      await waitFor(() => !egressConsumerOf(server).stats().paused, 5_000, 'consumption resumed');
    } finally {
      unsubscribe();
    }
    expect(states.slice(0, 3)).toEqual(['closed', 'open', 'half_open']);
    expect(states[states.length - 1]).toBe('closed');
    expect(env.sim.inspect.sent()).toHaveLength(N);
    expect(env.sim.inspect.duplicateCount()).toBe(0);
    expect(await env.count(env.topics.egressDlq)).toBe(0);
  });

  it('keeps its partitions through sends slower than the session timeout (heartbeats), sending each once', async () => {
    // Session 6 s (the brokers' smallest by default); each create takes 7.5 s.
    const env = await startEgressEnv({ env: { TWILIO_TIMEOUT_SECS: '15', EGRESS_SESSION_TIMEOUT_SECS: '6' } });
    env.sim.faults.latency(7_500, { match: create });
    for (let i = 0; i < 3; i++) await env.producer.publish(env.request({ to: customer(i), body: `slow ${i}` }));
    const server = env.service();
    await server.start();
    await waitFor(() => env.sim.inspect.sent().length === 3, 30_000, 'the slow creates to arrive');
    const during = egressConsumerOf(server).stats().heartbeats;
    await new Promise((r) => setTimeout(r, 5_000));
    // While the sends hang on Twilio the batch keeps heartbeating (every session / 10 = 600 ms).
    expect(egressConsumerOf(server).stats().heartbeats - during).toBeGreaterThanOrEqual(4);
    const outcomes = env.events(await env.read(env.topics.outcomes, 3, 60_000));
    expect(outcomes.every((o) => o.type === 'sms.outbound.accepted')).toBe(true);
    expect(egressConsumerOf(server).stats().joins).toBe(1);
    expect(env.sim.inspect.sent()).toHaveLength(3);
    expect(env.sim.inspect.duplicateCount()).toBe(0);
  });

  it('delays sends to one recipient to its rate and drops none', async () => {
    const env = await startEgressEnv({ env: { TWILIO_PER_NUMBER_RATE: '4', TWILIO_PER_NUMBER_BURST: '1' } });
    const N = 8;
    for (let i = 0; i < N; i++) await env.producer.publish(env.request({ to: customer(1), body: `in order ${i}` }));
    const server = env.service();
    await server.start();
    await env.read(env.topics.outcomes, N);
    const sent = env.sim.inspect.sentTo(customer(1));
    // Strictly in order per recipient, one token every 250 ms (HTTP jitter on top).
    expect(sent.map((m) => m.body)).toEqual(Array.from({ length: N }, (_, i) => `in order ${i}`));
    const times = sent.map((m) => m.dateCreated.getTime());
    for (let i = 1; i < N; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(200);
    expect(times[N - 1]! - times[0]!).toBeLessThan(250 * (N - 1) * 1.5);
  });
});
