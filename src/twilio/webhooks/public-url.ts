/**
 * The URL Twilio signed: the configured public base (scheme, host, optional
 * path prefix) plus the path and query this process received. Behind a
 * TLS-terminating proxy or a path-rewriting ingress the request's own
 * protocol/host differ from what Twilio called, so they are never used.
 * Fragments (`#rc=…` connection overrides) never reach the server and are not
 * part of the signature.
 */
export function publicUrlFor(baseUrl: string, requestUrl: string): string {
  return baseUrl + requestUrl;
}

/** Normalises a configured base URL once: no trailing slash, so `base + /path` never doubles it. */
export function normaliseBaseUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}
