import { VoiceEnvelopeBuilder, type EventOf, type InternalEventV2 } from '../../../../src/envelope';
import { ACCOUNT, customer, SENDER, startEgressEnv, waitFor } from '../../egress/egress-env';

/**
 * Voice egress end to end on real Kafka through the Twilio simulator:
 * voice.call.requested → a call created on the simulator (rings, is
 * answered, holds on its <Pause>) → voice.call.accepted with its CallSid;
 * voice.call.end_requested → the simulator's call completed →
 * voice.call.accepted for the end. Plus a Calls create fault that leaves
 * the call created without an answer: reconciled, one call, one outcome.
 */
jest.setTimeout(120_000);

const builder = new VoiceEnvelopeBuilder();
const HOLD = '<Response><Say>This is a reminder call.</Say><Pause length="120"/></Response>';

const callRequest = (data: EventOf<'voice.call.requested'>['data']) =>
  builder.build('voice.call.requested', { accountSid: ACCOUNT, subject: data.to, data });
const endRequest = (to: string, data: EventOf<'voice.call.end_requested'>['data']) =>
  builder.build('voice.call.end_requested', { accountSid: ACCOUNT, subject: to, data });

describe('voice egress through the simulator (real Kafka)', () => {
  it('places a call once (accepted with its CallSid) and ends it on request (completed on the simulator)', async () => {
    const env = await startEgressEnv();
    const to = customer(71);
    const request = callRequest({ to, from: SENDER, twiml: HOLD, machineDetection: 'Enable' });
    await env.producer.publish(request);
    const server = env.service();
    await server.start();
    const [first] = env.events(await env.read(env.topics.outcomes, 1));
    expect(first?.type).toBe('voice.call.accepted');
    const accepted = first as EventOf<'voice.call.accepted'>;
    expect(accepted.causationId).toBe(request.id);
    expect(accepted.data).toMatchObject({ requestId: request.id, to, attempts: 1, deduplicated: false });
    const callSid = accepted.data.callSid;
    await waitFor(() => sim(env).voice.callView(callSid)?.status === 'in-progress', 10_000, 'call answered');
    expect(sim(env).voice.calls({ to })).toHaveLength(1);
    expect(sim(env).voice.callView(callSid)).toMatchObject({
      from: SENDER,
      direction: 'outbound-api',
      answeredBy: 'human',
    });

    const end = endRequest(to, { requestId: request.id });
    await env.producer.publish(end);
    const outcomes = env.events(await env.read(env.topics.outcomes, 2));
    const ended = outcomes.find((e: InternalEventV2) => e.causationId === end.id) as EventOf<'voice.call.accepted'>;
    expect(ended.type).toBe('voice.call.accepted');
    expect(ended.data).toMatchObject({ callSid, status: 'completed', deduplicated: false });
    expect(sim(env).voice.callView(callSid)?.status).toBe('completed');
    // Ending it again answers as the first end did, nobody rung.
    const again = endRequest(to, { callSid });
    await env.producer.publish(again);
    const third = env.events(await env.read(env.topics.outcomes, 3)).find((e) => e.causationId === again.id);
    expect(third?.data).toMatchObject({ callSid, status: 'completed', deduplicated: true });
    expect(sim(env).voice.calls({ to })).toHaveLength(1);
  });

  it('a Calls create reset after the call was created: reconciled by listing, one call and one outcome', async () => {
    const env = await startEgressEnv();
    const to = customer(72);
    env.sim.faults.connectionReset({ match: { resource: 'calls', operation: 'create' }, times: 1 });
    const request = callRequest({ to, from: SENDER, twiml: HOLD });
    await env.producer.publish(request);
    const server = env.service();
    await server.start();
    const [outcome] = env.events(await env.read(env.topics.outcomes, 1));
    expect(outcome?.type).toBe('voice.call.accepted');
    const calls = env.sim.voice.calls({ to });
    expect(calls).toHaveLength(1);
    expect(outcome?.data).toMatchObject({ callSid: calls[0]?.sid, deduplicated: true });
    expect(env.sim.inspect.requests({ operation: 'create' }).filter((r) => r.resource === 'calls')).toHaveLength(1);
  });
});

function sim(env: Awaited<ReturnType<typeof startEgressEnv>>) {
  return env.sim;
}
