/**
 * What a CLI command may touch of the outside world. src/main.ts builds the
 * real one from `process`; tests pass their own.
 */
export interface CliIo {
  argv: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  /** Resolves with the signal name on the first SIGINT/SIGTERM (a second one forces exit in main.ts). */
  waitForSignal(): Promise<string>;
}

/** A readable, one-line failure with an exit code (no stack traces for users). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
