/**
 * Logging by subject and level. The default logger is a no-op; a disabled level costs one
 * comparison and builds no strings, because callers test `log.level` before formatting.
 *
 * @module
 */

/** Log levels, most severe first; a logger prints messages at or below its level. */
export const LogLevel = {
  /** Nothing is logged. */
  NONE: 0,
  /** The process cannot go on. */
  FATAL: 1,
  /** A connection or operation failed. */
  ERROR: 2,
  /** Something unexpected that sluice handled. */
  WARN: 3,
  /** Lifecycle events: listening, connections opened and closed. */
  INFO: 4,
  /** Per-connection detail: shutdowns, errors with codes. */
  DEBUG: 5,
  /** Per-frame and per-message detail. */
  TRACE: 6,
} as const;
/** A {@link LogLevel} value. */
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** What a message is about; handlers of a plugin may use their own subject names. */
export type LogSubject =
  | 'event-loop'
  | 'channel'
  | 'socket'
  | 'bootstrap'
  | 'tls'
  | 'http2-connection'
  | 'http2-stream'
  | 'http2-encoder'
  | 'http2-decoder'
  | (string & {});

/** Logger receives log lines. Check `level` before building a message. */
export interface Logger {
  /** The most verbose level this logger prints. */
  readonly level: LogLevel;
  /** Writes one message. */
  log(level: LogLevel, subject: LogSubject, message: string): void;
}

/** A logger that prints nothing (the default). */
export const noopLogger: Logger = Object.freeze({ level: LogLevel.NONE, log: () => undefined });

/** A logger writing `time level [subject] message` lines to a stream (stderr by default). */
export function createStreamLogger(level: LogLevel, stream: { write(line: string): unknown } = process.stderr): Logger {
  const names = Object.keys(LogLevel) as (keyof typeof LogLevel)[];
  return {
    level,
    log(messageLevel, subject, message) {
      if (messageLevel > level) return;
      stream.write(`${new Date().toISOString()} ${names[messageLevel]} [${subject}] ${message}\n`);
    },
  };
}

/**
 * The process-wide logger. Hot paths read `log.level` first:
 * `if (log.level >= LogLevel.DEBUG) log.log(LogLevel.DEBUG, 'socket', \`read ${n}\`)`.
 */
export let log: Logger = noopLogger;

/** Replaces the process-wide logger. */
export function setLogger(logger: Logger): void {
  log = logger;
}

/** Parses a level name (`debug`, `INFO`, …); undefined if unknown. */
export function parseLogLevel(name: string): LogLevel | undefined {
  const key = name.toUpperCase() as keyof typeof LogLevel;
  return Object.hasOwn(LogLevel, key) ? LogLevel[key] : undefined;
}
