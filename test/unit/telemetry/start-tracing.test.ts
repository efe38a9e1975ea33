import {
  BATCH_DEFAULTS,
  batchSettingsFrom,
  otlpProtocolFrom,
  startTracing,
  tracesExporterFrom,
  tracesUrl,
} from '../../../src/telemetry/start-tracing';

describe('tracing switches (standard OTel variables)', () => {
  it('stays off unless an exporter or an endpoint is named, and OTEL_SDK_DISABLED wins', () => {
    expect(tracesExporterFrom({})).toBeUndefined();
    expect(tracesExporterFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe('otlp');
    expect(tracesExporterFrom({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toBe('otlp');
    expect(tracesExporterFrom({ OTEL_TRACES_EXPORTER: 'console' })).toBe('console');
    expect(
      tracesExporterFrom({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' }),
    ).toBeUndefined();
    expect(
      tracesExporterFrom({
        OTEL_SDK_DISABLED: 'TRUE',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x',
      }),
    ).toBeUndefined();
  });

  it('sends to the signal endpoint as given, or to the base endpoint + /v1/traces', () => {
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' })).toBe(
      'http://127.0.0.1:4318/v1/traces',
    );
    expect(
      tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9/t' }),
    ).toBe('http://b:9/t');
    expect(tracesUrl({})).toBeUndefined();
  });

  it('encodes OTLP as protobuf by default, as JSON when asked; the traces variable wins over the general one', () => {
    expect(otlpProtocolFrom({})).toBe('http/protobuf');
    expect(otlpProtocolFrom({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe('http/json');
    expect(otlpProtocolFrom({ OTEL_EXPORTER_OTLP_PROTOCOL: ' HTTP/JSON ' })).toBe('http/json');
    expect(
      otlpProtocolFrom({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      }),
    ).toBe('http/protobuf');
    expect(
      otlpProtocolFrom({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      }),
    ).toBe('http/json');
  });

  it('reads an empty or blank traces variable as unset, so the general one still applies (as the config schema does)', () => {
    for (const blank of ['', '  ']) {
      expect(
        otlpProtocolFrom({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: blank, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }),
      ).toBe('http/json');
    }
  });
});

describe('batch processor sizes', () => {
  it('gives larger batches and queue only where OTEL_BSP_* leaves them unset, never a batch over a named queue', () => {
    expect(batchSettingsFrom({})).toEqual({ maxQueueSize: 8192, maxExportBatchSize: 2048 });
    expect(BATCH_DEFAULTS).toEqual({ maxQueueSize: 8192, maxExportBatchSize: 2048 });
    expect(batchSettingsFrom({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '100' })).toEqual({ maxQueueSize: 8192 });
    expect(batchSettingsFrom({ OTEL_BSP_MAX_QUEUE_SIZE: '1000' })).toEqual({ maxExportBatchSize: 1000 });
    expect(batchSettingsFrom({ OTEL_BSP_MAX_QUEUE_SIZE: '100000' })).toEqual({ maxExportBatchSize: 2048 });
    // A value the SDK will ignore (not a number) leaves our batch size as it is.
    expect(batchSettingsFrom({ OTEL_BSP_MAX_QUEUE_SIZE: 'lots' })).toEqual({ maxExportBatchSize: 2048 });
    expect(batchSettingsFrom({ OTEL_BSP_MAX_QUEUE_SIZE: ' ', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '' })).toEqual({
      maxQueueSize: 8192,
      maxExportBatchSize: 2048,
    });
    expect(batchSettingsFrom({ OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '5' })).toEqual({});
  });
});

describe('startTracing', () => {
  it('starts nothing when tracing is off', () => {
    expect(startTracing({})).toBeUndefined();
  });

  it.each([
    [{}, 'http/protobuf'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'http/json'],
  ] as const)('starts the OTLP exporter for %j in %s', async (extra, protocol) => {
    const tracing = startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...extra });
    expect(tracing).toMatchObject({ exporter: 'otlp', protocol });
    await tracing!.shutdown();
  });

  it('starts the console exporter without a protocol', async () => {
    const tracing = startTracing({ OTEL_TRACES_EXPORTER: 'console' });
    expect(tracing?.exporter).toBe('console');
    expect(tracing?.protocol).toBeUndefined();
    await tracing!.shutdown();
  });
});
