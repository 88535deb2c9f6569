/**
 * Checks of what public constructors and entry points are given, made once where the call enters
 * (never on a per-message path), so a wrong type is a coded {@link SluiceError} rather than a
 * TypeError from deep inside.
 *
 * @module
 */
import { IoErrors, SluiceError, type ErrorDefinition } from './errors.js';

/**
 * A value named for an error message, safely: no conversion that could itself throw (an object
 * whose `toString` is not a function would).
 *
 * @internal
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return value.length <= 40 ? JSON.stringify(value) : 'a string';
  return typeof value;
}

/**
 * What a callback threw, as text for an error message, without throwing again (`String` throws on
 * a null-prototype object).
 *
 * @internal
 */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  try {
    return String(thrown);
  } catch {
    return typeof thrown;
  }
}

/** Whether `value` is an object (not null) that an options bag or table may be. */
function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/**
 * Throws `definition` (`IO_INVALID_OPTIONS` by default) unless `options` is an object or
 * undefined (optional options).
 *
 * @internal
 */
export function checkOptionalOptions(
  options: unknown,
  what: string,
  definition: ErrorDefinition = IoErrors.INVALID_OPTIONS,
): void {
  if (options !== undefined && !isObject(options)) {
    throw new SluiceError(definition, `${what}: options are an object, not ${describeValue(options)}`);
  }
}

/**
 * Throws `definition` (`IO_INVALID_OPTIONS` by default) unless `options` is an object
 * (required options).
 *
 * @internal
 */
export function checkRequiredOptions(
  options: unknown,
  what: string,
  definition: ErrorDefinition = IoErrors.INVALID_OPTIONS,
): asserts options is object {
  if (!isObject(options)) {
    throw new SluiceError(definition, `${what}: options are an object, not ${describeValue(options)}`);
  }
}

/**
 * Throws `definition` (`IO_INVALID_OPTIONS` by default) with `message` unless `condition` holds.
 *
 * @internal
 */
export function checkArgument(
  condition: boolean,
  what: string,
  expected: string,
  value: unknown,
  definition: ErrorDefinition = IoErrors.INVALID_OPTIONS,
): asserts condition {
  if (!condition) throw new SluiceError(definition, `${what}: ${expected}, not ${describeValue(value)}`);
}

/**
 * Whether `value` is an error table row (`{ code, message }`, both strings).
 *
 * @internal
 */
export function isErrorDefinition(value: unknown): value is ErrorDefinition {
  return (
    isObject(value) &&
    typeof (value as Partial<ErrorDefinition>).code === 'string' &&
    typeof (value as Partial<ErrorDefinition>).message === 'string'
  );
}
