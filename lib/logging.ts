/**
 * Logging by subject and level. A disabled level costs one comparison and builds no strings,
 * because callers test `log.level` before formatting.
 *
 * Defaults: a process that only connects (clients, the SDK) logs nothing; once a server starts
 * listening (`ServerBootstrap.listen`, and so `createServer`, `listenHttp2`), WARN and above go
 * to stderr, so an unexpected failure of a server is visible. {@link setLogger} replaces either
 * default for the whole process, and no server changes it afterwards.
 *
 * @module
 */
import { IoErrors, SluiceError } from './errors.js';

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

/** A logger that prints nothing (the default until a server listens). */
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
 * {@link noopLogger} until a server listens or {@link setLogger} is called.
 */
export let log: Logger = noopLogger;

/** The level servers log at by default: what went wrong unexpectedly, nothing routine. */
export const SERVER_DEFAULT_LOG_LEVEL: LogLevel = LogLevel.WARN;

/** True once {@link setLogger} chose the logger: defaults never replace it afterwards. */
let isLoggerChosen = false;

/**
 * Replaces the process-wide logger, for clients and servers alike; servers that start
 * listening afterwards keep it. `setLogger(noopLogger)` silences servers too. Throws
 * `IO_INVALID_OPTIONS` for anything that is not a logger (and keeps the one it had).
 */
export function setLogger(logger: Logger): void {
  const candidate = logger as Partial<Logger> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.level !== 'number' ||
    typeof candidate.log !== 'function'
  ) {
    // Refused here: a broken logger would fail later, inside whatever next logs.
    throw new SluiceError(
      IoErrors.INVALID_OPTIONS,
      'setLogger takes a logger: { level: LogLevel, log(level, subject, message) }',
    );
  }
  log = logger;
  isLoggerChosen = true;
}

/**
 * Server entry points call this before they listen: unless {@link setLogger} chose a logger,
 * WARN and above go to stderr from then on. Idempotent and cheap.
 */
export function useServerDefaultLogger(): void {
  if (isLoggerChosen || log !== noopLogger) return;
  log = createStreamLogger(SERVER_DEFAULT_LOG_LEVEL);
}

/** Parses a level name (`debug`, `INFO`, …); undefined if unknown (or not a string). */
export function parseLogLevel(name: string): LogLevel | undefined {
  if (typeof name !== 'string') return undefined;
  const key = name.toUpperCase() as keyof typeof LogLevel;
  return Object.hasOwn(LogLevel, key) ? LogLevel[key] : undefined;
}
