/**
 * The simulator's one error: a stable code (the same codes the service uses
 * for bad configuration and lifecycle misuse) and a message. The package
 * depends on nothing of the service, so it carries its own.
 */
export type SimulatorErrorCode = 'IE_CONFIG_INVALID' | 'IE_LIFECYCLE' | 'IE_INTERNAL';

export class SimulatorError extends Error {
  override readonly name = 'SimulatorError';

  constructor(
    readonly code: SimulatorErrorCode,
    message: string,
  ) {
    super(message);
  }
}
