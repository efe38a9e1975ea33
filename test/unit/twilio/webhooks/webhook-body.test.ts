import { parseFormBody, parseJsonBody, WebhookBodyError } from '../../../../src/twilio/webhooks/webhook-body';

describe('webhook bodies', () => {
  it('keeps the raw form text and decodes + and percent escapes', () => {
    const raw = 'Body=Hello+world%21&From=%2B14155550123&MediaUrl0=a&MediaUrl0=b';
    const body = parseFormBody(raw);
    expect(body.kind).toBe('form');
    expect(body.raw).toBe(raw);
    expect(body.params.Body).toBe('Hello world!');
    expect(body.params.From).toBe('+14155550123');
    expect(body.params.MediaUrl0).toEqual(['a', 'b']);
  });

  it('turns JSON scalars into strings and leaves nested values out', () => {
    const body = parseJsonBody('{"NumMedia":2,"Body":"x","Flag":true,"Nested":{"a":1},"Nothing":null}');
    expect(body.params).toEqual({ NumMedia: '2', Body: 'x', Flag: 'true' });
  });

  it.each(['not json', '[1,2]', 'null', '"text"'])('refuses %s with a 400 reason', (raw) => {
    expect(() => parseJsonBody(raw)).toThrow(WebhookBodyError);
    try {
      parseJsonBody(raw);
    } catch (err) {
      expect((err as WebhookBodyError).statusCode).toBe(400);
    }
  });
});
