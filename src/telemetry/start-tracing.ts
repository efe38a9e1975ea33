/**
 * The OpenTelemetry SDK, started by src/main.ts only (the rest of the code
 * uses the API, which is a no-op until this runs). Off unless the standard
 * variables ask for it: OTEL_EXPORTER_OTLP_ENDPOINT (or its _TRACES_ form) or
 * OTEL_TRACES_EXPORTER (`otlp`, `console`; `none` keeps it off), and never
 * with OTEL_SDK_DISABLED=true. Spans go through a batch processor to an
 * OTLP/HTTP exporter (or the console): protobuf by default, as OTel's
 * specification says, or JSON when OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL is
 * `http/json`. The protobuf exporter writes each batch straight into one
 * buffer; the JSON one builds an object tree and a string per batch first
 * (about 260 ms of CPU per 8,000 egress requests in a profile, docs/tracing.md).
 * The SDK reads its other standard variables itself (OTEL_TRACES_SAMPLER[_ARG],
 * OTEL_BSP_*, OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES, …).
 */
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';

export type TracesExporterKind = 'otlp' | 'console';
export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface Tracing {
  readonly exporter: TracesExporterKind;
  /** The OTLP encoding, when the exporter is `otlp`. */
  readonly protocol?: OtlpProtocol;
  /** Ends the SDK: exports what is queued (call before the process exits). */
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

/** Which exporter the environment asks for, or undefined when tracing stays off. */
export function tracesExporterFrom(env: Env): TracesExporterKind | undefined {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return undefined;
  const named = (env.OTEL_TRACES_EXPORTER ?? '').split(',')[0]!.trim().toLowerCase();
  if (named === 'none') return undefined;
  if (named === 'otlp' || named === 'console') return named;
  if (named !== '') return undefined; // config check names the bad value
  const endpoint = (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').trim();
  return endpoint !== '' ? 'otlp' : undefined;
}

/** OTLP/HTTP traces URL: the signal-specific endpoint as is, or the base endpoint + /v1/traces. */
export function tracesUrl(env: Env): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (specific) return specific;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/**
 * The OTLP/HTTP encoding: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else
 * OTEL_EXPORTER_OTLP_PROTOCOL, else `http/protobuf` (the specification's
 * default). The configuration check refuses other values (`grpc`) at start-up.
 */
export function otlpProtocolFrom(env: Env): OtlpProtocol {
  // An empty value is unset (as the config schema reads it), so it does not hide the general variable.
  const named = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() || env.OTEL_EXPORTER_OTLP_PROTOCOL || '')
    .trim()
    .toLowerCase();
  return named === 'http/json' ? 'http/json' : 'http/protobuf';
}

/** What the batch span processor is given when the standard OTEL_BSP_* variable for it is not set. */
export const BATCH_DEFAULTS = { maxExportBatchSize: 2048, maxQueueSize: 8192 } as const;

export interface BatchSettings {
  maxExportBatchSize?: number;
  maxQueueSize?: number;
}

/**
 * The batch processor's size settings where the environment leaves them unset (the SDK reads the variables that
 * are set itself): batches of 2,048 spans from a queue of 8,192 rather than the SDK's 512 from 2,048, so a busy
 * service sends a quarter as many export requests, each carrying the resource and scope once per batch. A batch
 * is never made larger than a queue the environment names.
 */
export function batchSettingsFrom(env: Env): BatchSettings {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  const out: BatchSettings = {};
  if (!set('OTEL_BSP_MAX_QUEUE_SIZE')) out.maxQueueSize = BATCH_DEFAULTS.maxQueueSize;
  if (!set('OTEL_BSP_MAX_EXPORT_BATCH_SIZE')) {
    const queue = Number(env.OTEL_BSP_MAX_QUEUE_SIZE);
    out.maxExportBatchSize =
      set('OTEL_BSP_MAX_QUEUE_SIZE') && Number.isFinite(queue) && queue > 0
        ? Math.min(queue, BATCH_DEFAULTS.maxExportBatchSize)
        : BATCH_DEFAULTS.maxExportBatchSize;
  }
  return out;
}

/**
 * Starts the SDK when the environment asks for it and registers it globally
 * (AsyncLocalStorage context, W3C trace-context propagation). `processor`
 * replaces the exporter pipeline (tests: a SimpleSpanProcessor on an
 * InMemorySpanExporter).
 */
export function startTracing(env: Env, options: { processor?: SpanProcessor } = {}): Tracing | undefined {
  const kind = tracesExporterFrom(env);
  if (!kind) return undefined;
  const url = tracesUrl(env);
  const protocol = kind === 'otlp' ? otlpProtocolFrom(env) : undefined;
  const target = url ? { url } : {};
  const exporter: SpanExporter =
    protocol === undefined
      ? new ConsoleSpanExporter()
      : protocol === 'http/json'
        ? new OTLPJsonTraceExporter(target)
        : new OTLPProtobufTraceExporter(target);
  const resource = resourceFromAttributes({
    'service.name': env.OTEL_SERVICE_NAME?.trim() || 'ingress-egress',
  }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [options.processor ?? new BatchSpanProcessor(exporter, batchSettingsFrom(env))],
  });
  provider.register();
  return { exporter: kind, ...(protocol ? { protocol } : {}), shutdown: () => provider.shutdown() };
}
