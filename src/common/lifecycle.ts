import { IngressEgressError } from '../errors';

export type LifecycleState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface LifecycleOptions {
  /** A start() after a failed start tries again (default: it returns the same failure). */
  retryFailedStart?: boolean;
  /**
   * Runs at once when stop() is called, before waiting for a start still in
   * progress: lets a long start (catching up, waiting for a session) give up.
   */
  onStopRequested?: () => void;
}

/**
 * Idempotent start()/stop() for long-lived parts: concurrent calls share one
 * in-flight promise; a stopped part never restarts (build a new one). A stop
 * during start waits for the start to settle, then stops.
 */
export class Lifecycle {
  private _state: LifecycleState = 'idle';
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly onStart: () => Promise<void>,
    private readonly onStop: () => Promise<void>,
    private readonly options: LifecycleOptions = {},
  ) {}

  get state(): LifecycleState {
    return this._state;
  }

  get running(): boolean {
    return this._state === 'running';
  }

  start(): Promise<void> {
    if (this._state === 'stopping' || this._state === 'stopped') {
      return Promise.reject(
        new IngressEgressError('IE_LIFECYCLE', `${this.name} was stopped and cannot be started again`),
      );
    }
    if (this.starting && !(this._state === 'failed' && this.options.retryFailedStart)) return this.starting;
    this._state = 'starting';
    this.starting = this.onStart().then(
      () => {
        if (this._state === 'starting') this._state = 'running';
      },
      (err: unknown) => {
        this._state = 'failed';
        throw err;
      },
    );
    return this.starting;
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    const previous = this.starting;
    this.options.onStopRequested?.();
    if (this._state === 'idle') {
      this._state = 'stopped';
      return (this.stopping = Promise.resolve());
    }
    this._state = 'stopping';
    this.stopping = (async () => {
      if (previous) await previous.catch(() => undefined);
      this._state = 'stopping';
      try {
        await this.onStop();
      } finally {
        this._state = 'stopped';
      }
    })();
    return this.stopping;
  }
}
