/**
 * Field-layout helpers for long-lived objects on hot paths: the V8 tricks the runtime and the
 * handlers rely on, each written once, behind types that cannot be misused.
 *
 * @module
 */

/**
 * The first value of a number field that is set rarely and may hold a fraction or `Infinity`;
 * the constructor then assigns the real initial value.
 *
 * V8 gives a field whose first value was a number a double representation: every object of the
 * class carries a 16-byte box for it, for life, whether the field is ever set or not. A field
 * whose first value was not a number stays a plain reference: `Infinity` is one shared constant,
 * whole numbers below 2^31 are stored inline, and only storing a fraction allocates. Objects kept
 * per connection start such fields with this value (heap snapshots of idle connections: one
 * heap number fewer per field). It is `null` typed as a number: never read it.
 *
 * @internal
 */
export const UNBOXED_NUMBER_FIELD = null as unknown as number;

/**
 * The largest whole number a number field holds inline, 2^31 − 1 (a V8 small integer without
 * pointer compression, as Node is built here). A field of a class that ever holds more, or a
 * fraction, becomes a double field: every object of the class then carries a 16-byte box for it,
 * for life — a value that may be larger is kept at most this, or as a flag.
 *
 * @internal
 */
export const MAX_INLINE_INTEGER = 0x7fffffff;

declare const LAZY_LIST: unique symbol;

/**
 * LazyList is a list that most objects keep empty for life (pending SETTINGS, outstanding PINGs,
 * PING ACKs, streams with DATA): while empty it is one frozen array shared by every object, so
 * an idle object holds no array of its own, and an array is made by the first element.
 *
 * Pushing into the shared frozen array would throw a TypeError (it once did, in a regression),
 * so the type is read-only: read it as an array, change it only with {@link lazyPush},
 * {@link lazyPut}, {@link lazyRemoveAt}, {@link lazyRemoveFirst} and {@link lazyListOf}, and store the list they
 * return — it is a new array when the list was the empty one, or the empty one when the list
 * emptied. The helpers allocate exactly what the array operations they stand for allocate.
 *
 * @internal
 */
export type LazyList<T> = readonly T[] & { readonly [LAZY_LIST]: true };

const EMPTY: readonly never[] = Object.freeze([]);

/** The shared empty list. @internal */
export function emptyList<T>(): LazyList<T> {
  return EMPTY as unknown as LazyList<T>;
}

/** The list of `array`'s elements: `array` itself, which the list now owns (or the empty list). @internal */
export function lazyListOf<T>(array: T[]): LazyList<T> {
  return (array.length === 0 ? EMPTY : array) as unknown as LazyList<T>;
}

/** Appends `item`; returns the list to store. @internal */
export function lazyPush<T>(list: LazyList<T>, item: T): LazyList<T> {
  // The first item makes an array of one: `[]` and a push would reserve 17 slots (V8 grows an
  // array by half plus 16), ≈ 130 bytes that a list of one — common on an idle connection — never uses.
  if ((list as readonly unknown[]) === EMPTY) return [item] as unknown as LazyList<T>;
  (list as unknown as T[]).push(item);
  return list;
}

/**
 * Stores `item` at `index` (at most the list's length: an array that keeps its length reuses its
 * slots); returns the list to store.
 *
 * @internal
 */
export function lazyPut<T>(list: LazyList<T>, index: number, item: T): LazyList<T> {
  if ((list as readonly unknown[]) === EMPTY) return [item] as unknown as LazyList<T>; // index is 0 (see lazyPush)
  const array = list as unknown as T[];
  if (index < array.length) array[index] = item;
  else array.push(item);
  return array as unknown as LazyList<T>;
}

/** Removes the element at `index`; returns the list to store (the shared empty one once empty). @internal */
export function lazyRemoveAt<T>(list: LazyList<T>, index: number): LazyList<T> {
  if (list.length <= 1) return emptyList();
  (list as unknown as T[]).splice(index, 1);
  return list;
}

/**
 * Removes the first `count` elements (one by default); returns the list to store (the shared
 * empty one once empty).
 *
 * @internal
 */
export function lazyRemoveFirst<T>(list: LazyList<T>, count = 1): LazyList<T> {
  if (count >= list.length) return emptyList();
  if (count === 1) (list as unknown as T[]).shift();
  else if (count > 1) (list as unknown as T[]).splice(0, count);
  return list;
}

/**
 * `bits` with `flag` set (`value` true) or cleared: the setter of a boolean kept as a bit.
 *
 * Objects kept per connection (a channel, its slots, an HTTP/2 connection's outgoing-frames task)
 * hold their booleans as bits of one small-integer field, read through accessors: V8 gives every
 * boolean field 8 octets for the object's life, and a bit of a field costs none. The accessors
 * are inlined on hot paths, so a read costs a mask and a comparison.
 *
 * @internal
 */
export function withFlag(bits: number, flag: number, value: boolean): number {
  return value ? bits | flag : bits & ~flag;
}
