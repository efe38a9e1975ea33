import {
  FORGOTTEN_SKEW_MS,
  mayBeForgotten,
  requestTime,
  unknownSince,
} from '../../../../src/twilio/egress/send-ledger';
import { MemorySendLedger } from '../../../helpers/memory-send-ledger';

describe('requestTime', () => {
  it('is the earlier of ingestedAt and the record timestamp, ignoring one that does not parse', () => {
    const at = Date.UTC(2024, 4, 1, 12);
    expect(requestTime(new Date(at).toISOString(), at + 5_000)).toBe(at);
    expect(requestTime(new Date(at).toISOString(), at - 5_000)).toBe(at - 5_000);
    expect(requestTime(new Date(at).toISOString(), undefined)).toBe(at);
    expect(requestTime('not a time', at)).toBe(at);
    expect(requestTime('not a time', undefined)).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('mayBeForgotten', () => {
  it('is false while the ledger forgot nothing, and true up to the skew past what it forgot', () => {
    const ledger = new MemorySendLedger(() => 0, 1);
    expect(mayBeForgotten(ledger, Number.NEGATIVE_INFINITY)).toBe(false);
    ledger.table.forgot(1_000_000);
    expect(mayBeForgotten(ledger, 1_000_000 + FORGOTTEN_SKEW_MS)).toBe(true);
    expect(mayBeForgotten(ledger, 1_000_000 + FORGOTTEN_SKEW_MS + 1)).toBe(false);
    expect(mayBeForgotten(ledger, Number.NEGATIVE_INFINITY)).toBe(true);
  });
});

describe('unknownSince', () => {
  it('proves a request new while its time is past the horizon, else asks Twilio from its time less the skew', () => {
    const ledger = new MemorySendLedger(() => 0, 1);
    const at = 1_000_000;
    expect(unknownSince(ledger, new Date(at).toISOString(), at)).toBeUndefined();
    ledger.table.forgot(at);
    expect(unknownSince(ledger, new Date(at).toISOString(), at + 5_000)).toBe(at - FORGOTTEN_SKEW_MS);
    expect(unknownSince(ledger, 'not a time', at + 5_000)).toBe(at + 5_000 - FORGOTTEN_SKEW_MS);
    expect(unknownSince(ledger, new Date(at + FORGOTTEN_SKEW_MS + 1).toISOString(), undefined)).toBeUndefined();
  });
});
