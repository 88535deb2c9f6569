/**
 * The command line's failures and the exit codes they map to.
 *
 * @module
 */

/** Exit codes of the `sluice` command: 0 ok, 1 a request or IO failure, 2 bad usage. */
export const ExitCode = {
  /** The command did what it was asked. */
  OK: 0,
  /** A request, connection, file or other IO operation failed. */
  FAILURE: 1,
  /** The command line itself is wrong (unknown flag, bad URL, bad number). */
  USAGE: 2,
} as const;
/** An {@link ExitCode} value. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * CliError is a failure the command reports as one line on stderr before exiting with
 * `exitCode`; anything else thrown is reported the same way with exit code 1.
 */
export class CliError extends Error {
  /** The process exit code this failure maps to. */
  readonly exitCode: ExitCode;

  /** Creates the error; `message` is the whole line after the command name. */
  constructor(exitCode: ExitCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A usage error (exit code 2): the command line cannot be run as written. */
export function usageError(message: string): CliError {
  return new CliError(ExitCode.USAGE, message);
}

/** A failure (exit code 1): a request, connection or file operation failed. */
export function failure(message: string, cause?: unknown): CliError {
  return new CliError(ExitCode.FAILURE, message, cause === undefined ? undefined : { cause });
}

/** A one-line description of anything thrown: the message, with the `code` when it has one. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error).split('\n')[0];
  const code = (error as { code?: unknown }).code;
  let message = error.message.split('\n')[0];
  // Node's system errors read "ENOENT: no such file or directory, open 'x'": keep the middle.
  const systemError = typeof code === 'string' ? /^([A-Z0-9_]+): (.*?)(, \w+ '.*')?$/.exec(message) : null;
  if (systemError !== null && systemError[1] === code) message = systemError[2]!;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
