/**
 * How long-lived objects keep rarely-set number fields without a box each.
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
