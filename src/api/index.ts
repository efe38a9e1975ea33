export { createApi, API_VERSION, type Api, type ApiContext } from './create-api';
export { OutcomeWatcher, outcomeOf, type RequestOutcome, type WaitKind } from './outcome-watcher';
export { IdempotencyKeys } from './idempotency-keys';
