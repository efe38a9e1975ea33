import { silentLogger } from '../../../../src/observability';
import { createSharedEgressParts } from '../../../../src/twilio/egress/create-shared-egress-parts';
import type { LeanRequestClient } from '../../../../src/twilio/egress/lean-request-client';
import { MemorySendLedger } from '../../../helpers/memory-send-ledger';
import { accountOf, testConfig, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../../../helpers/config';
import { MemoryPublisher } from '../../../helpers/memory-publisher';

beforeEach(() => jest.useFakeTimers({ now: 0 }));
afterEach(() => jest.useRealTimers());

function egress(env: Record<string, string> = {}) {
  const config = testConfig({
    TWILIO_ENABLED: 'true',
    TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
    TWILIO_WEBHOOK_BASE_URL: 'https://hooks.example.com',
    ...env,
  });
  return createSharedEgressParts({
    config,
    account: accountOf(config),
    logger: silentLogger,
    publisher: new MemoryPublisher(),
    ledger: new MemorySendLedger(() => Date.now()),
  });
}

/** The transport under the shared SDK client. */
function transport(e: ReturnType<typeof egress>): LeanRequestClient {
  return e.client.httpClient as unknown as LeanRequestClient;
}

describe('createSharedEgressParts: the connection and circuit knobs reach their parts', () => {
  it('builds the Twilio transport with TWILIO_CONNECT_TIMEOUT_SECS, TWILIO_HTTP_MAX_SOCKETS and the idle timeout', () => {
    const t = transport(
      egress({
        TWILIO_TIMEOUT_SECS: '20',
        TWILIO_CONNECT_TIMEOUT_SECS: '1.5',
        TWILIO_HTTP_MAX_SOCKETS: '7',
        TWILIO_HTTP_IDLE_TIMEOUT_SECS: '9',
      }),
    );
    expect(t.httpAgent.maxSockets).toBe(7);
    expect((t.httpAgent as unknown as { options: object }).options).toMatchObject({ keepAlive: true, timeout: 9_000 });
    expect((t as unknown as { connectTimeoutMs: number; timeoutMs: number }).connectTimeoutMs).toBe(1_500);
    expect((t as unknown as { connectTimeoutMs: number; timeoutMs: number }).timeoutMs).toBe(20_000);
  });

  it('defaults the pool to EGRESS_CONCURRENCY + 10 sockets', () => {
    expect(transport(egress({ EGRESS_CONCURRENCY: '30' })).httpAgent.maxSockets).toBe(40);
  });

  it('closes an account circuit only after TWILIO_CIRCUIT_SUCCESS_THRESHOLD successful probes', async () => {
    const e = egress({
      TWILIO_CIRCUIT_FAILURE_THRESHOLD: '2',
      TWILIO_CIRCUIT_RESET_TIMEOUT_SECS: '1',
      TWILIO_CIRCUIT_SUCCESS_THRESHOLD: '2',
    });
    const breaker = e.circuits.for(TEST_ACCOUNT_SID);
    (await breaker.acquire()).failure();
    (await breaker.acquire()).failure();
    expect(breaker.state).toBe('open');
    await jest.advanceTimersByTimeAsync(1_000);
    (await breaker.acquire()).success();
    expect(breaker.state).toBe('half_open');
    (await breaker.acquire()).success();
    expect(breaker.state).toBe('closed');
  });
});

describe('createSharedEgressParts: the ledger as a foundation', () => {
  it('runs a ledger that has a lifecycle as the send-ledger part, and a ledger without one as none', () => {
    expect(egress().parts).toEqual([]);
    const config = testConfig({
      TWILIO_ENABLED: 'true',
      TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      TWILIO_WEBHOOK_BASE_URL: 'https://hooks.example.com',
    });
    const ledger = Object.assign(new MemorySendLedger(() => Date.now()), {
      state: 'running',
      start: () => Promise.resolve(),
      stop: () => Promise.resolve(),
    });
    const parts = createSharedEgressParts({
      config,
      account: accountOf(config),
      logger: silentLogger,
      publisher: new MemoryPublisher(),
      ledger,
    }).parts;
    expect(parts.map((p) => p.name)).toEqual(['send-ledger']);
    expect(parts[0]?.health?.()).toEqual({ ready: true, state: 'running' });
  });
});
