export {
  loadConfig,
  maskedEnv,
  ConfigError,
  type AppConfig,
  type ConversationsConfig,
  type TwilioAccount,
  type TopicNames,
  type WebhookSigning,
} from './config';
export { ENV_VARS, SECRET_ENV_VARS, envSchema } from './schema';
export { API_SCOPES, hashApiToken, parseApiTokens, type ApiScope, type ApiTokenEntry } from './api-tokens';
