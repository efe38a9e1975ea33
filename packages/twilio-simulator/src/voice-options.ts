import type { CallAnswer } from './call';
import type { CallbackChaos } from './status-callbacks';

/** How a callee of a created call answers. */
export interface CallAnswerRule {
  /** Exact callee (E.164); absent matches every call. */
  to?: string;
  answer: CallAnswer;
  probability?: number;
}

export interface VoiceOptions {
  /** How callees of created calls (POST Calls.json) answer; first match wins; default answered. */
  outcomes?: CallAnswerRule[];
  /** What a `<Dial>`ed number does when the incoming call does not say (default answered). */
  dialOutcome?: CallAnswer;
  /** Seconds a party talks once answered (default 30), unless the call says. */
  talkSecs?: number;
  /** Duplicated / out-of-order call status callbacks. */
  callbacks?: CallbackChaos;
}
