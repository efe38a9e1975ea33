import { explain, specExamples, validators } from './twilio-openapi';

/**
 * The validators themselves: Twilio's own examples pass (so the custom formats
 * mean what Twilio means), and a body with the classic mistakes fails (so a
 * passing simulator proves something).
 */
describe("Twilio's OpenAPI validators", () => {
  it.each(specExamples().map((e) => [e.name, e] as const))('accept the spec example %s', (_name, example) => {
    const v = example.kind === 'list' ? validators.list : validators.message;
    if (!v(example.value)) throw new Error(explain(v));
  });

  const good = {
    account_sid: 'AC' + 'a'.repeat(32),
    api_version: '2010-04-01',
    body: 'hi',
    date_created: 'Thu, 24 Aug 2023 05:01:45 +0000',
    date_sent: null,
    date_updated: 'Thu, 24 Aug 2023 05:01:45 +0000',
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: '+14155552345',
    messaging_service_sid: null,
    num_media: '0',
    num_segments: '1',
    price: null,
    price_unit: 'USD',
    sid: 'SM' + 'b'.repeat(32),
    status: 'queued',
    subresource_uris: { media: '/2010-04-01/Accounts/AC/Messages/SM/Media.json' },
    to: '+14155552346',
    uri: '/2010-04-01/Accounts/AC/Messages/SM.json',
  };

  it('accept a well-formed message', () => {
    expect(validators.strictMessage(good)).toBe(true);
  });

  it.each([
    ['a numeric count', { num_segments: 1 }],
    ['an ISO date', { date_created: '2023-08-24T05:01:45Z' }],
    ['an unknown status', { status: 'pending' }],
    ['a malformed SID', { sid: 'SM123' }],
    ['a bad currency', { price_unit: 'dollars' }],
    ['an extra field', { extra: true }],
  ])('reject a message with %s', (_name, patch) => {
    expect(validators.strictMessage({ ...good, ...patch })).toBe(false);
  });

  it('reject a message missing a field', () => {
    const { direction: _dropped, ...rest } = good;
    expect(validators.strictMessage(rest)).toBe(false);
  });

  it('check the error body shape', () => {
    expect(
      validators.error({
        code: 21211,
        message: 'x',
        more_info: 'https://www.twilio.com/docs/errors/21211',
        status: 400,
      }),
    ).toBe(true);
    expect(validators.error({ code: '21211', message: 'x', status: 400 })).toBe(false);
  });
});
