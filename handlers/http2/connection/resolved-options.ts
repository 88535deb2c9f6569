/**
 * A connection's options with the defaults filled in.
 *
 * @module
 * @internal
 */
import { checkOptionalOptions, describeValue } from '../../../lib/argument-checks.js';
import { IoErrors, SluiceError } from '../../../lib/errors.js';
import { checkMinDataRate } from '../../../lib/data-rate.js';
import { HTTP2_CONNECTION_DEFAULTS, type Http2ConnectionOptions } from './connection-options.js';

/** Resolved options: every field present. @internal */
export type ResolvedHttp2Options = typeof HTTP2_CONNECTION_DEFAULTS & Http2ConnectionOptions;

/** Resolved options per options object: the connections made with one object share one copy. */
const resolvedOptions = new WeakMap<Http2ConnectionOptions, ResolvedHttp2Options>();

/**
 * The defaults with `options` over them, made once per options object; options that are not an
 * object, or a `writeScheduler` that is not one, are `IO_INVALID_OPTIONS` (checked here, where a
 * connection is made, not per frame).
 * @internal
 */
export function resolveOptions(options: Http2ConnectionOptions = {}): ResolvedHttp2Options {
  checkOptionalOptions(options, 'new Http2Connection(options)');
  let resolved = resolvedOptions.get(options);
  if (resolved === undefined) {
    const scheduler = options.writeScheduler;
    if (scheduler !== undefined && scheduler !== 'rfc9218' && scheduler !== 'round-robin') {
      throw new SluiceError(
        IoErrors.INVALID_OPTIONS,
        `writeScheduler is 'rfc9218' or 'round-robin', not ${describeValue(scheduler)}`,
      );
    }
    resolved = Object.freeze({ ...HTTP2_CONNECTION_DEFAULTS, ...stripUndefined(options) });
    checkMinDataRate(resolved.minResponseDataRate, 'minResponseDataRate');
    checkMinDataRate(resolved.minRequestBodyDataRate, 'minRequestBodyDataRate');
    resolvedOptions.set(options, resolved);
  }
  return resolved;
}

/** Copies only the defined fields, so `undefined` never overrides a default. */
function stripUndefined<T extends object>(options: T): Partial<T> {
  const result: Partial<T> = {};
  for (const key of Object.keys(options) as (keyof T)[]) if (options[key] !== undefined) result[key] = options[key];
  return result;
}
