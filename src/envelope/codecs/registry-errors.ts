import { IngressEgressError } from '../../errors';

/**
 * How a failure of the Schema Registry client should be treated. The client
 * (mappersmith underneath) reports transport failures (refused, reset, DNS,
 * timeout) as a ResponseError with status 400 whose message carries no JSON
 * error body ("Error, status 400: connect ECONNREFUSED …"); those are outages,
 * as are 5xx, 408 and 429. Everything else is the registry saying no.
 */
export type RegistryFailure = 'unavailable' | 'not_found' | 'rejected';

export function classifyRegistryError(err: unknown): RegistryFailure {
  if (!(err instanceof Error)) return 'rejected';
  const status = (err as { status?: unknown }).status;
  if (typeof status !== 'number') return 'rejected';
  if (status >= 500 || status === 408 || status === 429) return 'unavailable';
  if (status === 400 && /Error, status 400:/.test(err.message)) return 'unavailable';
  if (status === 404) return 'not_found';
  return 'rejected';
}

export function registryError(action: string, err: unknown): IngressEgressError {
  const failure = classifyRegistryError(err);
  const reason = err instanceof Error ? err.message : String(err);
  return new IngressEgressError('IE_SCHEMA_REGISTRY', `Schema Registry ${action} failed: ${reason}`, {
    cause: err,
    retriable: failure === 'unavailable',
    details: { failure },
  });
}
