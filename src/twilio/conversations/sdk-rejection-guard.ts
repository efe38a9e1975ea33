import type { Logger } from '../../observability';

/**
 * The Conversations SDK rejects promises nobody awaits (e.g. a failed Sync
 * fetch while a conversation subscribes). Node ends the process on an
 * unhandled rejection, so while a session runs this guard listens for them:
 * rejections that come from the SDK are logged and counted; any other one is
 * re-thrown as Node would have, unless the host installed its own handler.
 *
 * This is the one place outside src/main.ts that touches the process: the
 * SDK's floating promises can be caught nowhere else. The target is injected
 * so tests use a plain EventEmitter.
 */
export interface RejectionTarget {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  listenerCount(event: 'unhandledRejection'): number;
}

const SDK_ERROR_NAMES = new Set([
  'SyncError',
  'SyncNetworkError',
  'TwilsockError',
  'TwilsockReplyError',
  'TwilsockUpstreamError',
  'TransportUnavailableError',
]);
const SDK_STACK =
  /node_modules[\\/](?:@twilio[\\/](?:conversations|mcs-client|notifications|operation-retrier)|twilio-sync|twilsock)[\\/]/;

export function isSdkRejection(reason: unknown): boolean {
  if (reason instanceof Error) {
    return (
      SDK_ERROR_NAMES.has(reason.name) ||
      SDK_ERROR_NAMES.has(reason.constructor.name) ||
      SDK_STACK.test(reason.stack ?? '')
    );
  }
  // The SDK also rejects with plain `{ terminal, message }` connection errors.
  return typeof reason === 'object' && reason !== null && 'terminal' in reason && 'message' in reason;
}

/** What the ingress client needs from a guard: on while a session may exist. */
export interface RejectionGuard {
  install(): void;
  uninstall(): void;
}

export class SdkRejectionGuard implements RejectionGuard {
  private installed = false;
  swallowed = 0;
  private readonly listener = (reason: unknown) => this.onRejection(reason);

  constructor(
    private readonly logger: Logger,
    private readonly target: RejectionTarget = process,
    private readonly rethrow: (err: unknown) => void = (err) =>
      queueMicrotask(() => {
        throw err;
      }),
  ) {}

  install(): void {
    if (this.installed) return;
    this.installed = true;
    this.target.on('unhandledRejection', this.listener);
  }

  uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    this.target.off('unhandledRejection', this.listener);
  }

  private onRejection(reason: unknown): void {
    if (isSdkRejection(reason)) {
      this.swallowed++;
      this.logger.warn(
        { err: reason instanceof Error ? reason : new Error(String((reason as { message?: unknown }).message)) },
        'Conversations SDK failed an internal request nobody awaited; the session carries on',
      );
      return;
    }
    // Not ours: behave as if this listener did not exist.
    if (this.target.listenerCount('unhandledRejection') <= 1) this.rethrow(reason);
  }
}
