export {
  KeywordDetector,
  keywordConflicts,
  type KeywordProblem,
  canonicalKeyword,
  consentScopeFor,
  actionFromOptOutType,
  DEFAULT_OPT_OUT_KEYWORDS,
  DEFAULT_OPT_IN_KEYWORDS,
  DEFAULT_HELP_KEYWORDS,
  ACCOUNT_WIDE_OPT_OUT_KEYWORDS,
  type KeywordAction,
  type KeywordMatch,
  type KeywordOptions,
} from '../sms/keywords';
export {
  ConsentStore,
  type ConsentEntry,
  type ConsentStoreOptions,
  type SenderContext,
  type SizeGauge,
} from './consent-store';
export { E164Table } from './e164-table';
export {
  ConsentLoader,
  decodeJsonConsentRecord,
  type ConsentLoaderOptions,
  type ConsentLoaderState,
  type ConsentLoaderStats,
} from './consent-loader';
