/**
 * Retry strategies: how failures are classified, how long to wait before trying again
 * (exponential backoff with jitter) and how much retrying a partition may do (a token bucket,
 * as in the AWS SDKs' "standard" mode). Waits run as tasks on an event loop, so tests drive
 * them in virtual time.
 *
 * @module
 */
import { SluiceError, errorDefinition } from './errors.js';
import { checkArgument, checkOptionalOptions, checkRequiredOptions } from './argument-checks.js';
import type { EventLoop } from './event-loop.js';
import { Task, TaskStatus } from './task.js';

/** Errors of the retry area. */
export const RetryErrors = Object.freeze({
  /** `RETRY_NOT_RETRYABLE`: the failure is a client error; trying again would fail the same way. */
  NOT_RETRYABLE: errorDefinition('RETRY_NOT_RETRYABLE', 'the failure is not retryable'),
  /** `RETRY_MAX_RETRIES_EXCEEDED`: the token already made `maxRetries` retries. */
  MAX_RETRIES_EXCEEDED: errorDefinition('RETRY_MAX_RETRIES_EXCEEDED', 'the maximum number of retries was reached'),
  /** `RETRY_QUOTA_EXCEEDED`: the partition's token bucket cannot pay for another retry (the service is failing; stop hammering it). */
  QUOTA_EXCEEDED: errorDefinition('RETRY_QUOTA_EXCEEDED', 'the retry quota of the partition is exhausted'),
  /** `RETRY_CANCELED`: the token was released while a retry waited. */
  CANCELED: errorDefinition('RETRY_CANCELED', 'the retry was canceled'),
});

/** Classes of failure, which decide whether and how a request is retried. */
export const RetryErrorType = {
  /** A network or connection failure (reset, refused, timeout, retryable HTTP/2 refusal): retried. */
  TRANSIENT: 'transient',
  /** The service asks the client to slow down (HTTP 429, 503): retried with backoff. */
  THROTTLING: 'throttling',
  /** The service failed (other HTTP 5xx): retried. */
  SERVER_ERROR: 'server-error',
  /** The request is wrong (HTTP 4xx, invalid input, abort): never retried. */
  CLIENT_ERROR: 'client-error',
} as const;
/** A {@link RetryErrorType} value. */
export type RetryErrorType = (typeof RetryErrorType)[keyof typeof RetryErrorType];

/** RetryFailure is what a classifier looks at: the error of an attempt, or its HTTP status. */
export interface RetryFailure {
  /** The error the attempt failed with, if it failed without a response. */
  readonly error?: unknown;
  /** The HTTP status of the attempt's response, if one arrived. */
  readonly status?: number;
}

/** RetryClassifier maps a failure to its {@link RetryErrorType}. */
export type RetryClassifier = (failure: RetryFailure) => RetryErrorType;

/** Node socket error codes that mean "try again" (the network, not the request, failed). */
const TRANSIENT_NODE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);
/**
 * sluice codes outside the `IO_*` and `*_TIMEOUT` families that also mean the network failed:
 * the SDK's stream manager dropped a connection that stopped answering PINGs (a keep-alive
 * timeout by another name). Named here as strings: `lib/` does not import the handlers.
 */
const TRANSIENT_SLUICE_CODES = new Set(['SDK_CONNECTION_DEAD']);

/**
 * classifyFailure is the default {@link RetryClassifier}:
 *
 * - status 429 or 503 → `THROTTLING`; other 5xx → `SERVER_ERROR`; 408 → `TRANSIENT`; other
 *   statuses → `CLIENT_ERROR`;
 * - an error with `retryable === true` (an HTTP/2 REFUSED_STREAM or a stream above a GOAWAY's
 *   last id), an `IO_*` error, a code ending in `_TIMEOUT`, `SDK_CONNECTION_DEAD` (the
 *   connection stopped answering PINGs), or a Node socket error (ECONNRESET, …) → `TRANSIENT`;
 * - anything else → `CLIENT_ERROR`.
 */
export const classifyFailure: RetryClassifier = (failure) => {
  // A classifier is given whatever failed: what is not a failure record is a client error.
  if (typeof failure !== 'object' || failure === null) return RetryErrorType.CLIENT_ERROR;
  const status = failure.status;
  if (status !== undefined) {
    if (status === 429 || status === 503) return RetryErrorType.THROTTLING;
    if (status >= 500 && status <= 599) return RetryErrorType.SERVER_ERROR;
    if (status === 408) return RetryErrorType.TRANSIENT;
    return RetryErrorType.CLIENT_ERROR;
  }
  const error = failure.error;
  if (typeof error !== 'object' || error === null) return RetryErrorType.CLIENT_ERROR;
  const fields = error as { retryable?: unknown; code?: unknown };
  if (fields.retryable === true) return RetryErrorType.TRANSIENT;
  const code = fields.code;
  if (typeof code === 'string') {
    if (
      error instanceof SluiceError &&
      (code.startsWith('IO_') || code.endsWith('_TIMEOUT') || TRANSIENT_SLUICE_CODES.has(code))
    ) {
      return RetryErrorType.TRANSIENT;
    }
    if (TRANSIENT_NODE_CODES.has(code)) return RetryErrorType.TRANSIENT;
  }
  return RetryErrorType.CLIENT_ERROR;
};

/** How backoff delays are randomized. */
export const JitterMode = {
  /** No randomness: `min(cap, scale × 2^n)`. */
  NONE: 'none',
  /** Full jitter: uniform in `[0, min(cap, scale × 2^n))`. */
  FULL: 'full',
  /** Decorrelated jitter: uniform in `[scale, previous × 3)`, capped. */
  DECORRELATED: 'decorrelated',
} as const;
/** A {@link JitterMode} value. */
export type JitterMode = (typeof JitterMode)[keyof typeof JitterMode];

/** Options of {@link ExponentialBackoff}; see {@link EXPONENTIAL_BACKOFF_DEFAULTS}. */
export interface ExponentialBackoffOptions {
  /** The base delay, ms: the first retry waits up to this long. */
  scaleMs?: number;
  /** No delay exceeds this, ms. */
  maxBackoffMs?: number;
  /** Retries allowed per token (attempts = retries + 1). */
  maxRetries?: number;
  /** How delays are randomized. */
  jitter?: JitterMode;
  /** A random number in [0, 1); `Math.random` by default. Give a seeded one for reproducible tests. */
  random?: () => number;
}

/**
 * Defaults of {@link ExponentialBackoffOptions}, the AWS SDKs' standard mode: 100 ms base,
 * 20 s cap, 3 attempts (2 retries), full jitter.
 */
export const EXPONENTIAL_BACKOFF_DEFAULTS = Object.freeze({
  /** 100 ms base delay. */
  scaleMs: 100,
  /** 20 s cap. */
  maxBackoffMs: 20_000,
  /** Two retries: three attempts. */
  maxRetries: 2,
  /** Full jitter. */
  jitter: JitterMode.FULL,
});

/**
 * ExponentialBackoff computes retry delays. `delayMs(retryIndex, previousDelayMs)` is pure
 * apart from the random source, so a seeded random gives the same sequence every run.
 */
export class ExponentialBackoff {
  /** The base delay, ms. */
  readonly scaleMs: number;
  /** The cap, ms. */
  readonly maxBackoffMs: number;
  /** Retries allowed per token. */
  readonly maxRetries: number;
  /** The jitter mode. */
  readonly jitter: JitterMode;
  private readonly random: () => number;

  /** Creates a backoff from `options` (negative values are clamped to 0). */
  constructor(options: ExponentialBackoffOptions = {}) {
    checkOptionalOptions(options, 'new ExponentialBackoff');
    this.scaleMs = Math.max(0, options.scaleMs ?? EXPONENTIAL_BACKOFF_DEFAULTS.scaleMs);
    this.maxBackoffMs = Math.max(0, options.maxBackoffMs ?? EXPONENTIAL_BACKOFF_DEFAULTS.maxBackoffMs);
    this.maxRetries = Math.max(0, options.maxRetries ?? EXPONENTIAL_BACKOFF_DEFAULTS.maxRetries);
    this.jitter = options.jitter ?? EXPONENTIAL_BACKOFF_DEFAULTS.jitter;
    this.random = options.random ?? Math.random;
  }

  /**
   * The delay before retry number `retryIndex` (0 for the first retry), ms, rounded down to a
   * whole millisecond. `previousDelayMs` is the last delay (decorrelated jitter grows from it;
   * 0 before the first retry).
   */
  delayMs(retryIndex: number, previousDelayMs = 0): number {
    const ceiling = Math.min(this.maxBackoffMs, this.scaleMs * 2 ** Math.min(retryIndex, 52));
    switch (this.jitter) {
      case JitterMode.NONE:
        return Math.floor(ceiling);
      case JitterMode.DECORRELATED: {
        const previous = Math.max(this.scaleMs, previousDelayMs);
        const upper = previous * 3;
        return Math.floor(Math.min(this.maxBackoffMs, this.scaleMs + this.random() * (upper - this.scaleMs)));
      }
      default:
        return Math.floor(this.random() * ceiling);
    }
  }
}

/** Called when a scheduled retry may start (`error` null) or was canceled (`RETRY_CANCELED`). */
export type RetryReadyCallback = (error: SluiceError | null) => void;

/**
 * RetryToken is one logical request's right to retry: it counts retries, remembers the last
 * delay and holds the tokens its last retry cost. Get it from `acquireToken`, give it back with
 * `recordSuccess` or `releaseToken`.
 */
export class RetryToken {
  /** The partition (e.g. the origin) whose budget pays for retries. */
  readonly partition: string;
  /** Retries scheduled so far. */
  retryCount = 0;
  /** The last delay, ms (0 before the first retry). */
  lastDelayMs = 0;
  /** Tokens the last retry took from the bucket (refunded on success). */
  heldCost = 0;
  /** True once the token was given back. */
  isReleased = false;
  /** @internal The waiting retry. */
  _task: Task | null = null;

  /** @internal Tokens come from a strategy's `acquireToken`. */
  constructor(partition: string) {
    this.partition = partition;
  }
}

/**
 * RetryStrategy decides whether a failed attempt is retried and schedules the wait.
 *
 * Flow: `acquireToken(partition)` before the first attempt; after a failure,
 * `scheduleRetry(token, type, callback)` — it returns an error when no retry may happen, or null
 * and calls `callback` on the loop once the delay has passed; after the last attempt,
 * `recordSuccess(token)` (the request succeeded) or `releaseToken(token)` (it gave up).
 */
export interface RetryStrategy {
  /** A token for one logical request on `partition`. */
  acquireToken(partition?: string): RetryToken;
  /**
   * Schedules a retry after a failure of type `errorType` (`isTimeout`: the attempt timed out,
   * which may cost more). Returns null when scheduled — `callback` then runs on a later loop
   * turn — or the reason it will not be: `RETRY_NOT_RETRYABLE`, `RETRY_MAX_RETRIES_EXCEEDED`,
   * `RETRY_QUOTA_EXCEEDED`.
   */
  scheduleRetry(
    token: RetryToken,
    errorType: RetryErrorType,
    callback: RetryReadyCallback,
    isTimeout?: boolean,
  ): SluiceError | null;
  /** The request succeeded: refunds what its retry cost (or credits the bucket) and releases the token. */
  recordSuccess(token: RetryToken): void;
  /** The request is over without success: cancels a waiting retry (its callback gets `RETRY_CANCELED`). */
  releaseToken(token: RetryToken): void;
}

/** Options of {@link ExponentialBackoffRetryStrategy}. */
export interface ExponentialBackoffRetryStrategyOptions extends ExponentialBackoffOptions {
  /** The loop whose clock times the waits. */
  loop: EventLoop;
}

/**
 * ExponentialBackoffRetryStrategy retries every non-client error up to `maxRetries` times with
 * exponential backoff, without a shared budget.
 */
export class ExponentialBackoffRetryStrategy implements RetryStrategy {
  /** The backoff computation. */
  readonly backoff: ExponentialBackoff;
  /** The loop the waits run on. */
  readonly loop: EventLoop;

  /** Creates a strategy on `options.loop`. */
  constructor(options: ExponentialBackoffRetryStrategyOptions) {
    checkRequiredOptions(options, 'retry strategy');
    checkArgument(
      typeof (options.loop as Partial<EventLoop> | null)?.scheduleAfter === 'function',
      'retry strategy',
      'options.loop is an EventLoop',
      options.loop,
    );
    this.backoff = new ExponentialBackoff(options);
    this.loop = options.loop;
  }

  /** A fresh token (no budget is taken). */
  acquireToken(partition = ''): RetryToken {
    return new RetryToken(partition);
  }

  /** See {@link RetryStrategy.scheduleRetry}. */
  scheduleRetry(
    token: RetryToken,
    errorType: RetryErrorType,
    callback: RetryReadyCallback,
    isTimeout = false,
  ): SluiceError | null {
    const refusal = this.checkRetry(token, errorType);
    if (refusal !== null) return refusal;
    this.onRetryScheduled(token, errorType, isTimeout);
    this.wait(token, callback);
    return null;
  }

  /** Releases the token. */
  recordSuccess(token: RetryToken): void {
    this.releaseToken(token);
  }

  /** See {@link RetryStrategy.releaseToken}. */
  releaseToken(token: RetryToken): void {
    if (token.isReleased) return;
    token.isReleased = true;
    const task = token._task;
    if (task !== null) this.loop.cancel(task);
  }

  /** @internal Why a retry is refused, or null. */
  protected checkRetry(token: RetryToken, errorType: RetryErrorType): SluiceError | null {
    if (token.isReleased) return new SluiceError(RetryErrors.CANCELED, 'the retry token was released');
    if (errorType === RetryErrorType.CLIENT_ERROR) return new SluiceError(RetryErrors.NOT_RETRYABLE);
    if (token.retryCount >= this.backoff.maxRetries) {
      return new SluiceError(
        RetryErrors.MAX_RETRIES_EXCEEDED,
        `${RetryErrors.MAX_RETRIES_EXCEEDED.message} (${this.backoff.maxRetries})`,
      );
    }
    if (token._task !== null) return new SluiceError(RetryErrors.CANCELED, 'a retry is already waiting on this token');
    return null;
  }

  /** @internal A retry was allowed: subclasses take its cost here. */
  protected onRetryScheduled(_token: RetryToken, _errorType: RetryErrorType, _isTimeout: boolean): void {}

  private wait(token: RetryToken, callback: RetryReadyCallback): void {
    const delay = this.backoff.delayMs(token.retryCount, token.lastDelayMs);
    token.retryCount++;
    token.lastDelayMs = delay;
    const task = new Task((status) => {
      token._task = null;
      callback(status === TaskStatus.RUN_READY ? null : new SluiceError(RetryErrors.CANCELED));
    }, 'retry-backoff');
    token._task = task;
    this.loop.scheduleAfter(task, delay);
  }
}

/** Options of {@link StandardRetryStrategy}; see {@link STANDARD_RETRY_DEFAULTS}. */
export interface StandardRetryStrategyOptions extends ExponentialBackoffRetryStrategyOptions {
  /** Tokens each partition's bucket starts with (and never exceeds). */
  initialBucketCapacity?: number;
  /** Tokens a retry costs. */
  retryCost?: number;
  /** Tokens a retry after a timeout costs. */
  timeoutRetryCost?: number;
  /** Tokens a success on the first attempt returns to the bucket. */
  noRetryIncrement?: number;
}

/**
 * Defaults of {@link StandardRetryStrategyOptions}, the AWS SDKs' standard mode: a bucket of
 * 500, 5 per retry, 10 per retry after a timeout, 1 back per first-try success.
 */
export const STANDARD_RETRY_DEFAULTS = Object.freeze({
  /** 500 tokens per partition. */
  initialBucketCapacity: 500,
  /** 5 tokens per retry. */
  retryCost: 5,
  /** 10 tokens per retry after a timeout. */
  timeoutRetryCost: 10,
  /** 1 token back per success without retry. */
  noRetryIncrement: 1,
});

/**
 * StandardRetryStrategy is exponential backoff plus a token bucket per partition: each retry
 * takes `retryCost` tokens (`timeoutRetryCost` after a timeout); a request that succeeds after
 * retrying gives its last retry's cost back, one that succeeds at once adds `noRetryIncrement`
 * (up to the capacity). When a partition's bucket cannot pay, retries are refused with
 * `RETRY_QUOTA_EXCEEDED` — a failing service sees first attempts only, not a retry storm.
 *
 * @example
 * ```ts
 * const strategy = new StandardRetryStrategy({ loop, random: seeded(42) });
 * const token = strategy.acquireToken('https://kv.example');
 * const refusal = strategy.scheduleRetry(token, RetryErrorType.THROTTLING, () => tryAgain());
 * ```
 */
export class StandardRetryStrategy extends ExponentialBackoffRetryStrategy {
  /** Bucket capacity per partition. */
  readonly capacity: number;
  private readonly retryCost: number;
  private readonly timeoutRetryCost: number;
  private readonly noRetryIncrement: number;
  private readonly buckets = new Map<string, number>();

  /** Creates a strategy; every partition's bucket starts full. */
  constructor(options: StandardRetryStrategyOptions) {
    super(options);
    this.capacity = options.initialBucketCapacity ?? STANDARD_RETRY_DEFAULTS.initialBucketCapacity;
    this.retryCost = options.retryCost ?? STANDARD_RETRY_DEFAULTS.retryCost;
    this.timeoutRetryCost = options.timeoutRetryCost ?? STANDARD_RETRY_DEFAULTS.timeoutRetryCost;
    this.noRetryIncrement = options.noRetryIncrement ?? STANDARD_RETRY_DEFAULTS.noRetryIncrement;
  }

  /** Tokens left in `partition`'s bucket. */
  availableTokens(partition = ''): number {
    return this.buckets.get(partition) ?? this.capacity;
  }

  /** See {@link RetryStrategy.scheduleRetry}; also refuses with `RETRY_QUOTA_EXCEEDED` when the bucket cannot pay. */
  override scheduleRetry(
    token: RetryToken,
    errorType: RetryErrorType,
    callback: RetryReadyCallback,
    isTimeout = false,
  ): SluiceError | null {
    const refusal = this.checkRetry(token, errorType);
    if (refusal !== null) return refusal;
    const cost = isTimeout ? this.timeoutRetryCost : this.retryCost;
    const available = this.availableTokens(token.partition);
    if (available < cost) {
      return new SluiceError(
        RetryErrors.QUOTA_EXCEEDED,
        `${RetryErrors.QUOTA_EXCEEDED.message}: ${available} tokens left, a retry costs ${cost}`,
      );
    }
    return super.scheduleRetry(token, errorType, callback, isTimeout);
  }

  /** Refunds the last retry's cost, or adds `noRetryIncrement` after a first-try success; releases the token. */
  override recordSuccess(token: RetryToken): void {
    if (token.isReleased) return;
    const refund = token.retryCount === 0 ? this.noRetryIncrement : token.heldCost;
    token.heldCost = 0;
    this.buckets.set(token.partition, Math.min(this.capacity, this.availableTokens(token.partition) + refund));
    this.releaseToken(token);
  }

  /** @internal Takes the retry's cost from the bucket. */
  protected override onRetryScheduled(token: RetryToken, _errorType: RetryErrorType, isTimeout: boolean): void {
    const cost = isTimeout ? this.timeoutRetryCost : this.retryCost;
    this.buckets.set(token.partition, this.availableTokens(token.partition) - cost);
    token.heldCost = cost;
  }
}
