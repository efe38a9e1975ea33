import { readFileSync } from 'node:fs';
import path from 'node:path';
import RestException from 'twilio/lib/base/RestException';
import {
  classifyTwilioError,
  ERROR_MAP,
  errorRow,
  HTTP_STATUS_ROWS,
  NETWORK_ERROR_ROWS,
  TWILIO_ERROR_ROWS,
} from '../../../../src/twilio/rest/error-map';

const docs = readFileSync(path.join(__dirname, '../../../../docs/errors.md'), 'utf8');

function restException(statusCode: number, body: unknown) {
  return new RestException({ statusCode, body: typeof body === 'string' ? body : JSON.stringify(body), headers: {} });
}

describe('the error map table', () => {
  it('has one row per code', () => {
    const codes = ERROR_MAP.map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it.each(ERROR_MAP.map((r) => [String(r.code), r] as const))('row %s is documented in docs/errors.md', (code, r) => {
    const heading = new RegExp(`^### ${code.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'm');
    expect(docs).toMatch(heading);
    expect(r.message.length).toBeGreaterThan(10);
    // A retriable consent error or a non-retriable ambiguous one would contradict itself.
    if (r.consent) expect(r.retriable).toBe(false);
    if (r.ambiguous) expect(r.retriable).toBe(true);
  });

  it('covers the codes the pipeline relies on', () => {
    const required = [
      20003, 20429, 21211, 21408, 21602, 21606, 21610, 21611, 21612, 21614, 21617, 30001, 30002, 30003, 30004, 30005,
      30006, 30007, 30008, 30022, 30034, 30036, 63017,
    ];
    for (const c of required) expect(errorRow(c)).toBeDefined();
    for (const s of ['HTTP 401', 'HTTP 404', 'HTTP 429', 'HTTP 5xx']) expect(errorRow(s)).toBeDefined();
    for (const n of ['ECONNABORTED', 'ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED']) expect(errorRow(n)).toBeDefined();
  });

  it('puts each code in its documented category (FACTS.md)', () => {
    const typeOf = (c: number) => errorRow(c)!.type;
    for (const c of [20429, 21611, 30001, 30022, 63017])
      expect([c, typeOf(c), errorRow(c)!.retriable]).toEqual([c, 'rate_limited', true]);
    for (const c of [30003, 30008]) expect([c, typeOf(c), errorRow(c)!.retriable]).toEqual([c, 'transient', true]);
    for (const c of [21211, 21408, 21606, 21612, 21614, 21617, 30002, 30004, 30005, 30006, 30034, 30036]) {
      expect([c, typeOf(c), errorRow(c)!.retriable]).toEqual([c, 'permanent', false]);
    }
    expect(errorRow(21610)).toMatchObject({ type: 'opted_out', retriable: false, consent: 'opt_out' });
    expect(errorRow(30007)).toMatchObject({ type: 'carrier_filtered', retriable: false });
    expect(errorRow(20003)).toMatchObject({ type: 'auth', retriable: false, configuration: true });
  });

  it('marks timeouts and resets ambiguous, a refused connection not', () => {
    for (const c of ['ECONNABORTED', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE'])
      expect(errorRow(c)).toMatchObject({ ambiguous: true, retriable: true });
    expect(errorRow('ECONNREFUSED')).toMatchObject({ retriable: true });
    expect(errorRow('ECONNREFUSED')!.ambiguous).toBeFalsy();
  });

  it('keeps the three tables disjoint', () => {
    expect(TWILIO_ERROR_ROWS.every((r) => typeof r.code === 'number')).toBe(true);
    expect(HTTP_STATUS_ROWS.every((r) => typeof r.code === 'string' && r.code.startsWith('HTTP '))).toBe(true);
    expect(NETWORK_ERROR_ROWS.every((r) => typeof r.code === 'string' && /^E[A-Z_]+$/.test(r.code))).toBe(true);
  });
});

describe('classifyTwilioError', () => {
  it('reads the SDK RestException: known code wins over status', () => {
    const err = restException(400, {
      code: 21610,
      message: 'Attempt to send to unsubscribed recipient +14155550123',
      more_info: 'https://www.twilio.com/docs/errors/21610',
      status: 400,
    });
    const c = classifyTwilioError(err);
    expect(c).toMatchObject({
      row: 21610,
      type: 'opted_out',
      retriable: false,
      ambiguous: false,
      consent: 'opt_out',
      twilioErrorCode: 21610,
      status: 400,
      moreInfo: 'https://www.twilio.com/docs/errors/21610',
    });
    expect(c.detail).toBe('Attempt to send to unsubscribed recipient +1********23');
  });

  it('falls back to the HTTP status for unknown codes and non-JSON bodies', () => {
    expect(classifyTwilioError(restException(400, { code: 99999, message: 'new error', status: 400 }))).toMatchObject({
      row: 'HTTP 400',
      type: 'permanent',
      twilioErrorCode: 99999,
    });
    expect(classifyTwilioError(restException(401, '<html>nope</html>'))).toMatchObject({
      row: 'HTTP 401',
      type: 'auth',
      configuration: true,
      twilioErrorCode: undefined,
    });
    expect(classifyTwilioError(restException(404, {}))).toMatchObject({ row: 'HTTP 404', type: 'not_found' });
    expect(classifyTwilioError(restException(418, {}))).toMatchObject({ row: 'HTTP 4xx', retriable: false });
    expect(classifyTwilioError(restException(503, 'down'))).toMatchObject({
      row: 'HTTP 503',
      retriable: true,
      ambiguous: false,
      outage: true,
    });
    expect(classifyTwilioError(restException(599, 'odd'))).toMatchObject({ row: 'HTTP 5xx', ambiguous: true });
  });

  it('a 429 is rate limited and carries Retry-After from details, headers or a date', () => {
    const e = restException(429, { code: 20429, message: 'Too Many Requests', status: 429 });
    (e as unknown as { details: unknown }).details = { retry_after_seconds: 2.5 };
    expect(classifyTwilioError(e)).toMatchObject({ type: 'rate_limited', retriable: true, retryAfterMs: 2500 });

    const axios429 = {
      isAxiosError: true,
      code: 'ERR_BAD_REQUEST',
      response: { status: 429, headers: { 'retry-after': '7' } },
    };
    expect(classifyTwilioError(axios429)).toMatchObject({ row: 'HTTP 429', retryAfterMs: 7000 });

    const now = Date.parse('2024-05-01T12:00:00Z');
    const dated = { status: 503, headers: { 'Retry-After': 'Wed, 01 May 2024 12:00:30 GMT' } };
    expect(classifyTwilioError(dated, { clock: { now: () => now } })).toMatchObject({
      row: 'HTTP 503',
      retryAfterMs: 30_000,
    });
    expect(classifyTwilioError({ status: 429, headers: { 'retry-after': 'soon' } }).retryAfterMs).toBeUndefined();
  });

  it('reads axios network errors: timeouts and resets are ambiguous, refused is not', () => {
    const timeout = Object.assign(new Error('timeout of 30000ms exceeded'), {
      code: 'ECONNABORTED',
      isAxiosError: true,
    });
    expect(classifyTwilioError(timeout)).toMatchObject({
      row: 'ECONNABORTED',
      type: 'timeout',
      retriable: true,
      ambiguous: true,
      outage: true,
      networkCode: 'ECONNABORTED',
    });
    expect(classifyTwilioError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toMatchObject({
      type: 'network',
      ambiguous: true,
    });
    expect(
      classifyTwilioError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toMatchObject({
      type: 'network',
      retriable: true,
      ambiguous: false,
    });
  });

  it('finds a network code on the cause', () => {
    const wrapped = new Error('request failed', { cause: Object.assign(new Error('x'), { code: 'ETIMEDOUT' }) });
    expect(classifyTwilioError(wrapped)).toMatchObject({ row: 'ETIMEDOUT', ambiguous: true });
  });

  it('never retries what it does not recognise', () => {
    for (const err of [new TypeError('x is not a function'), 'a string', null, undefined, 42, { code: 'EWHATEVER' }]) {
      expect(classifyTwilioError(err)).toMatchObject({ row: 'UNKNOWN', type: 'unknown', retriable: false });
    }
  });

  it('classifies a delivery error code from a status callback', () => {
    expect(classifyTwilioError({ code: 30003 })).toMatchObject({
      type: 'transient',
      retriable: true,
      status: undefined,
    });
  });
});
