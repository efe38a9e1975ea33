import { ConfigError, ENV_VARS, hashApiToken, loadConfig, maskedEnv } from '../../../src/config';

const base = { KAFKA_BROKERS: '127.0.0.1:9092', TWILIO_ENABLED: 'false' };
const SID = 'AC' + 'a'.repeat(32);

describe('loadConfig', () => {
  it('applies the defaults of the seed specification', () => {
    const c = loadConfig(base);
    expect(c.http.port).toBe(4000);
    expect(c.twilio.timeoutMs).toBe(30000);
    expect(c.twilio.rateLimit).toEqual({ perSec: 10, burst: 30, perNumberRate: 1, perNumberBurst: 3 });
    expect(c.twilio.circuit).toEqual({ failureThreshold: 5, resetTimeoutMs: 30000, successThreshold: 1 });
    expect(c.twilio.connectTimeoutMs).toBe(5000);
    expect(c.twilio.httpPool).toEqual({ maxSockets: 110, idleTimeoutMs: 30000 });
    expect(c.twilio.webhookAnswerDeadlineMs).toBe(14000);
    expect(c.twilio.maxSegments).toBe(10);
    expect(c.twilio.apiBaseUrl).toBe('https://api.twilio.com');
    expect(c.kafka.topics).toEqual({
      inbound: 'sms.inbound',
      status: 'sms.status',
      consent: 'sms.consent',
      egress: 'sms.egress',
      egressUrgent: 'sms.egress.urgent',
      egressBulk: 'sms.egress.bulk',
      outcomes: 'sms.outcomes',
      egressDlq: 'sms.egress.dlq',
      voiceCalls: 'voice.calls',
      voiceRecordings: 'voice.recordings',
    });
    expect(c.schemaRegistry).toBeUndefined();
    expect(c.egress.bulkRateShare).toBe(0.5);
  });

  it('reads the bulk lane share and refuses one outside 0.01–1', () => {
    expect(loadConfig({ ...base, EGRESS_BULK_RATE_SHARE: '0.2' }).egress.bulkRateShare).toBe(0.2);
    expect(() => loadConfig({ ...base, EGRESS_BULK_RATE_SHARE: '0' })).toThrow(/EGRESS_BULK_RATE_SHARE/);
    expect(() => loadConfig({ ...base, EGRESS_BULK_RATE_SHARE: '1.5' })).toThrow(/EGRESS_BULK_RATE_SHARE/);
  });

  it('accepts OTLP/HTTP protobuf or JSON and refuses gRPC, naming the variable', () => {
    expect(() => loadConfig({ ...base, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).not.toThrow();
    expect(() => loadConfig({ ...base, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })).not.toThrow();
    expect(() => loadConfig({ ...base, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL.*gRPC is not supported/,
    );
    expect(() => loadConfig({ ...base, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/xml' })).toThrow(
      /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL/,
    );
  });

  it('reads the connection knobs: connect timeout, pool size and idle timeout, answer deadline, success threshold', () => {
    const c = loadConfig({
      ...base,
      TWILIO_TIMEOUT_SECS: '20',
      TWILIO_CONNECT_TIMEOUT_SECS: '2.5',
      TWILIO_HTTP_MAX_SOCKETS: '64',
      TWILIO_HTTP_IDLE_TIMEOUT_SECS: '10',
      TWILIO_WEBHOOK_ANSWER_DEADLINE_SECS: '12',
      TWILIO_CIRCUIT_SUCCESS_THRESHOLD: '3',
    });
    expect(c.twilio.timeoutMs).toBe(20000);
    expect(c.twilio.connectTimeoutMs).toBe(2500);
    expect(c.twilio.httpPool).toEqual({ maxSockets: 64, idleTimeoutMs: 10000 });
    expect(c.twilio.webhookAnswerDeadlineMs).toBe(12000);
    expect(c.twilio.circuit.successThreshold).toBe(3);
    // The pool follows EGRESS_CONCURRENCY unless set.
    expect(loadConfig({ ...base, EGRESS_CONCURRENCY: '40' }).twilio.httpPool.maxSockets).toBe(50);
  });

  it('refuses an answer deadline Twilio would not wait for (15 s), and a success threshold of 0', () => {
    let err: unknown;
    try {
      loadConfig({
        ...base,
        TWILIO_WEBHOOK_ANSWER_DEADLINE_SECS: '15',
        TWILIO_CIRCUIT_SUCCESS_THRESHOLD: '0',
        TWILIO_HTTP_MAX_SOCKETS: '',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
      'TWILIO_CIRCUIT_SUCCESS_THRESHOLD',
      'TWILIO_HTTP_MAX_SOCKETS',
      'TWILIO_WEBHOOK_ANSWER_DEADLINE_SECS',
    ]);
  });

  it('returns a frozen object', () => {
    const c = loadConfig(base);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.kafka.topics)).toBe(true);
  });

  it('names every bad variable in one error, without echoing values', () => {
    const secret = 'super-secret-token-value';
    let err: unknown;
    try {
      loadConfig({
        HTTP_PORT: 'abc',
        TWILIO_ACCOUNT_SID: 'nope',
        TWILIO_AUTH_TOKEN: secret,
        TWILIO_RATE_LIMIT_PER_SEC: '-1',
        KAFKA_TOPIC_INBOUND: 'bad topic!',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    for (const v of [
      'HTTP_PORT',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_RATE_LIMIT_PER_SEC',
      'KAFKA_TOPIC_INBOUND',
      'KAFKA_BROKERS',
    ]) {
      expect(message).toContain(v);
    }
    expect(message).not.toContain(secret);
    expect(message).not.toContain('nope');
    expect((err as ConfigError).code).toBe('IE_CONFIG_INVALID');
  });

  it('refuses an empty or blank number instead of reading it as 0 (HTTP_PORT="" bound a random port)', () => {
    for (const value of ['', '  ']) {
      let err: unknown;
      try {
        loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092', HTTP_PORT: value, EGRESS_SESSION_TIMEOUT_SECS: value });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain('HTTP_PORT must be a number');
      expect((err as Error).message).toContain('EGRESS_SESSION_TIMEOUT_SECS must be a number');
    }
    expect(loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092', TWILIO_ENABLED: 'false', HTTP_PORT: '0' }).http.port).toBe(0);
  });

  it('accepts plain http:// or ws:// Twilio URLs only for a loopback host (the simulator), naming the variable', () => {
    const base = { KAFKA_BROKERS: '127.0.0.1:9092', TWILIO_ENABLED: 'false' };
    const vars = {
      TWILIO_API_BASE_URL: 'http://api.twilio.com',
      TWILIO_STATUS_CALLBACK_URL: 'http://sms.example.com/webhooks/twilio/status',
      TWILIO_WEBHOOK_BASE_URL: 'http://10.0.0.5:4000',
      TWILIO_CONVERSATIONS_SOCKET_URL: 'ws://tsock.example.com/v3/wsconnect',
    };
    let err: unknown;
    try {
      loadConfig({ ...base, ...vars });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    for (const [name, value] of Object.entries(vars)) {
      expect((err as Error).message).toContain(`${name} must use ${value.startsWith('ws') ? 'wss' : 'https'}://`);
    }
    for (const host of ['127.0.0.1:4010', 'localhost:4010', '[::1]:4010', '127.9.8.7']) {
      const c = loadConfig({
        ...base,
        TWILIO_API_BASE_URL: `http://${host}`,
        TWILIO_STATUS_CALLBACK_URL: `http://${host}/s`,
        TWILIO_WEBHOOK_BASE_URL: `http://${host}`,
        TWILIO_CONVERSATIONS_SOCKET_URL: `ws://${host}/v3/wsconnect`,
      });
      expect(c.twilio.apiBaseUrl).toBe(`http://${host}`);
    }
    // A lookalike is not loopback.
    expect(() => loadConfig({ ...base, TWILIO_API_BASE_URL: 'http://127.0.0.1.evil.example' })).toThrow(
      'TWILIO_API_BASE_URL must use https',
    );
    expect(loadConfig(base).twilio.apiBaseUrl).toBe('https://api.twilio.com');
  });

  it('requires credentials when Twilio is enabled', () => {
    expect(() => loadConfig({ ...base, TWILIO_ENABLED: 'true' })).toThrow(
      /TWILIO_ACCOUNT_SID.*TWILIO_AUTH_TOKEN.*TWILIO_WEBHOOK_BASE_URL/,
    );
  });

  it('carries the credentials as one account whenever both are set, so no factory checks them again', () => {
    const twilio = {
      TWILIO_ACCOUNT_SID: SID,
      TWILIO_AUTH_TOKEN: 'main',
      TWILIO_WEBHOOK_BASE_URL: 'https://example.com',
    };
    const account = { sid: SID, authToken: 'main' };
    expect(loadConfig({ ...base, ...twilio, TWILIO_ENABLED: 'true' }).twilio.account).toEqual(account);
    // The CLI's look-ups use them with the connector off.
    expect(loadConfig({ ...base, ...twilio, TWILIO_ENABLED: 'false' }).twilio.account).toEqual(account);
    expect(loadConfig({ ...base, TWILIO_ACCOUNT_SID: SID, TWILIO_ENABLED: 'false' }).twilio).toMatchObject({
      account: undefined,
      accountSid: SID,
    });
  });

  it('refuses to turn webhook validation off in production', () => {
    expect(() => loadConfig({ ...base, NODE_ENV: 'production', TWILIO_WEBHOOK_VALIDATION: 'false' })).toThrow(
      /TWILIO_WEBHOOK_VALIDATION cannot be false when NODE_ENV=production/,
    );
  });

  it('maps subaccount tokens and the main token by account SID', () => {
    const sub = 'AC' + 'b'.repeat(32);
    const c = loadConfig({
      ...base,
      TWILIO_ENABLED: 'true',
      TWILIO_ACCOUNT_SID: SID,
      TWILIO_AUTH_TOKEN: 'main',
      TWILIO_WEBHOOK_BASE_URL: 'https://example.com/',
      TWILIO_SUBACCOUNT_AUTH_TOKENS: `${sub}:subtoken`,
    });
    expect(c.twilio.authTokens).toEqual({ [SID]: 'main', [sub]: 'subtoken' });
    expect(c.twilio.webhookBaseUrl).toBe('https://example.com');
  });

  it('masks secrets in the effective configuration', () => {
    const masked = maskedEnv({
      ...base,
      TWILIO_AUTH_TOKEN: 'xyz',
      API_TOKENS: 'ops:admin:0123456789abcdef0',
      METRICS_TOKEN: '0123456789abcdef0',
    });
    expect(masked.TWILIO_AUTH_TOKEN).toBe('********');
    expect(masked.API_TOKENS).toBe('********');
    expect(masked.METRICS_TOKEN).toBe('********');
    expect(masked.HTTP_PORT).toBe('4000');
  });

  it('lists the contract variables of architecture.yaml', () => {
    for (const v of [
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'TWILIO_API_KEY_SID',
      'TWILIO_API_KEY_SECRET',
      'TWILIO_CONVERSATIONS_SERVICE_SID',
      'TWILIO_PHONE_NUMBER',
      'TWILIO_MESSAGING_SERVICE_SID',
      'TWILIO_STATUS_CALLBACK_URL',
      'TWILIO_WEBHOOK_BASE_URL',
      'TWILIO_API_BASE_URL',
      'TWILIO_ENABLED',
      'TWILIO_CONVERSATIONS_ENABLED',
      'TWILIO_TIMEOUT_SECS',
      'TWILIO_RATE_LIMIT_PER_SEC',
      'TWILIO_RATE_LIMIT_BURST',
      'TWILIO_PER_NUMBER_RATE',
      'TWILIO_PER_NUMBER_BURST',
      'TWILIO_CIRCUIT_FAILURE_THRESHOLD',
      'TWILIO_CIRCUIT_RESET_TIMEOUT_SECS',
      'TWILIO_MAX_SEGMENTS',
      'KAFKA_BROKERS',
      'KAFKA_CLIENT_ID',
      'KAFKA_GROUP_ID',
      'SCHEMA_REGISTRY_URL',
      'HTTP_PORT',
      'LOG_LEVEL',
      'API_TOKENS',
      'METRICS_TOKEN',
    ]) {
      expect(ENV_VARS).toContain(v);
    }
  });

  it('parses API_TOKENS into names, scopes and SHA-256 digests, never keeping a token', () => {
    const c = loadConfig({
      ...base,
      API_TOKENS: ' backend:send+read:tok-backend-0123456789 , ops:admin:tok-ops-0123456789ab',
    });
    expect(c.api.tokens).toEqual([
      { name: 'backend', scopes: ['send', 'read'], sha256: hashApiToken('tok-backend-0123456789') },
      { name: 'ops', scopes: ['admin'], sha256: hashApiToken('tok-ops-0123456789ab') },
    ]);
    expect(JSON.stringify(c)).not.toContain('tok-backend');
    expect(loadConfig(base).api.tokens).toEqual([]);
  });

  it.each([
    ['backend:send', 'entry 1 must be name:scopes:token'],
    ['backend:write:tok-backend-0123456789', 'entry 1 (backend) must have scopes'],
    ['backend:send:short', 'entry 1 (backend) needs a token of 16-512'],
    ['a:send:tok-aaaaaaaaaaaaaaaa,a:read:tok-bbbbbbbbbbbbbbbb', 'entry 2 repeats the name a'],
    ['a:send:tok-aaaaaaaaaaaaaaaa,b:read:tok-aaaaaaaaaaaaaaaa', "entry 2 (b) reuses another entry's token"],
    ['bad name:send:tok-aaaaaaaaaaaaaaaa', 'entry 1 has a bad name'],
  ])('refuses API_TOKENS=%s without quoting the token', (raw, message) => {
    let err: unknown;
    try {
      loadConfig({ ...base, API_TOKENS: raw });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problem = (err as ConfigError).problems.find((p) => p.variable === 'API_TOKENS');
    expect(problem?.message).toContain(message);
    expect((err as Error).message).not.toContain('tok-');
  });
});
