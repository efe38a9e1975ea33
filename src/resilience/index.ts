export { systemClock, sleep, type Clock, type ClockTimer } from '../common/clock';
export { TokenBucket, type TokenBucketOptions } from './token-bucket';
export {
  RateLimiter,
  type RateLimit,
  type RateLimiterOptions,
  type RateLimitBucket,
  type RateLimitKeys,
} from './rate-limiter';
export {
  CircuitBreaker,
  CIRCUIT_STATE_VALUE,
  type CircuitBreakerOptions,
  type CircuitPermit,
  type CircuitState,
} from './circuit-breaker';
export {
  RetryPolicy,
  DEFAULT_RETRY,
  TEST_RETRY,
  retryOptionsFor,
  readRetriable,
  type RetryPolicyOptions,
  type RetrySignal,
} from './retry-policy';
export { Semaphore } from './semaphore';
