export { API_PREFIX, isApiPath, type ApiRouteSpec, type ApiResponseSpec } from './api-route';
export { installApiAuth, installMetricsGuard, type ApiAuthOptions, type ApiRouteRecord } from './api-auth';
export { ApiRequestError, installApiErrorHandler, sendApiError, type ApiErrorBody } from './api-errors';
export { parseInput, type InputPart } from './parse-input';
export { buildOpenApi, openApiPath, type OpenApiInfo } from './openapi';
export { ApiTokenVerifier, bearerToken, hasScope, type ApiCaller } from './token-verifier';
