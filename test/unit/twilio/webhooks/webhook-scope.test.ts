import Fastify from 'fastify';
import { silentLogger } from '../../../../src/observability';
import { prepareWebhookScope } from '../../../../src/twilio/webhooks/webhook-scope';

async function app() {
  const logger = silentLogger.child({});
  const errors = jest.spyOn(logger, 'error');
  const server = Fastify();
  await server.register(async (scope) => {
    prepareWebhookScope(scope, logger, 'test webhook');
    scope.post('/echo', async (req) => req.body);
    scope.post('/bug', async () => {
      throw new TypeError('boom');
    });
  });
  return { server, errors };
}

describe('prepareWebhookScope', () => {
  it('parses form and JSON bodies', async () => {
    const { server } = await app();
    const form = await server.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'A=1&B=2',
    });
    expect(form.statusCode).toBe(200);
    expect(form.json()).toMatchObject({ kind: 'form', params: { A: '1', B: '2' }, raw: 'A=1&B=2' });
    const json = await server.inject({ method: 'POST', url: '/echo', payload: { A: '1' } });
    expect(json.statusCode).toBe(200);
  });

  it('keeps the 4xx of bad input with a reason and never answers 500 for it', async () => {
    const { server, errors } = await app();
    const other = await server.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'text/plain' },
      payload: 'x',
    });
    expect(other.statusCode).toBe(415);
    const broken = await server.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.body.length).toBeGreaterThan(0);
    expect(errors).not.toHaveBeenCalled();
  });

  it('answers 500 without details for a bug and logs it once', async () => {
    const { server, errors } = await app();
    const res = await server.inject({ method: 'POST', url: '/bug', payload: {} });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('boom');
    expect(errors).toHaveBeenCalledTimes(1);
    expect(errors.mock.calls[0]![1]).toBe('test webhook failed unexpectedly');
  });
});
