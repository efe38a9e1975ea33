import { freePort } from '@ingress-egress/sandbox';
import type { IngressEgressServer } from '../../../src/server';
import { customer, startEgressEnv, waitFor } from '../egress/egress-env';

jest.setTimeout(120_000);

const TOKEN = 'b'.repeat(40);

async function listening(start: () => IngressEgressServer): Promise<{ server: IngressEgressServer; url: string }> {
  const server = start();
  await server.start();
  return { server, url: await server.listen() };
}

describe('Idempotency-Key across instances (two services sharing Apache Kafka, the simulator as Twilio)', () => {
  it('one key sent 3 times concurrently to each of two instances is one request and one SMS', async () => {
    const env = await startEgressEnv();
    const instances = await Promise.all(
      [0, 1].map(async () => {
        const port = await freePort();
        return listening(() =>
          env.service({ HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', API_TOKENS: `backend:send+read:${TOKEN}` }),
        );
      }),
    );
    const to = customer(4242);
    const send = (url: string) =>
      fetch(`${url}/api/sms`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          'idempotency-key': 'order-4242-shipped',
        },
        body: JSON.stringify({ to, body: 'Your order 4242 has shipped' }),
      });
    // Three at once on each instance, both instances at once.
    const answers = await Promise.all(instances.flatMap(({ url }) => [send(url), send(url), send(url)]));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(202));
    const ids = new Set(
      await Promise.all(answers.map(async (a) => ((await a.json()) as { requestId: string }).requestId)),
    );
    expect(ids.size).toBe(1);
    const [requestId] = [...ids];

    // Each instance publishes the request once (its own repeats wait for its first publish): two records on
    // sms.egress, both handled, each with an outcome for the same request.
    const outcomes = env.events(await env.read(env.topics.outcomes, 2));
    expect(outcomes.map((o) => o.type)).toEqual(['sms.outbound.accepted', 'sms.outbound.accepted']);
    expect(outcomes.map((o) => (o.type === 'sms.outbound.accepted' ? o.data.requestId : ''))).toEqual([
      requestId,
      requestId,
    ]);
    // One was sent, the other found in the send ledger: one SMS, the same MessageSid.
    const sids = new Set(outcomes.map((o) => (o.type === 'sms.outbound.accepted' ? o.data.messageSid : '')));
    expect(sids.size).toBe(1);
    expect(outcomes.filter((o) => o.type === 'sms.outbound.accepted' && o.data.deduplicated)).toHaveLength(1);
    await waitFor(() => env.sim.inspect.sentTo(to).length >= 1, 10_000, 'the SMS');
    expect(env.sim.inspect.sentTo(to)).toHaveLength(1);
    expect(env.sim.inspect.requests({ operation: 'create' })).toHaveLength(1);
    expect(await env.count(env.topics.egress)).toBe(2);
  });
});
