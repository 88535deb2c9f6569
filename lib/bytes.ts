/**
 * Copying bytes between pooled buffers, and reading them as latin-1 strings, on hot paths.
 *
 * @module
 */

/** Runs up to this long are copied byte by byte (measured on Node 20: as fast, and no allocation). */
const SHORT_COPY_LENGTH = 64;

/**
 * Copies `source[start..end)` into `target` at `at` and returns the offset after the copy
 * (`at + end - start`); the target order is `memcpy`'s. Short runs go byte by byte: cheaper than
 * the view (`subarray`, one allocation per call) that a native copy of part of a buffer needs.
 *
 * @internal
 */
export function copyBytes(target: Uint8Array, at: number, source: Uint8Array, start: number, end: number): number {
  if (end - start <= SHORT_COPY_LENGTH) {
    for (let i = start; i < end; i++) target[at++] = source[i]!;
    return at;
  }
  target.set(source.subarray(start, end), at);
  return at + (end - start);
}

/** `Buffer#latin1Slice`: present in every Node release, absent from `@types/node`. */
interface Latin1Slicing {
  latin1Slice(start: number, end: number): string;
}

/**
 * The latin-1 string of `bytes[start..end)`. Calls `latin1Slice` directly: `toString('latin1', …)`
 * dispatches on the encoding name and checks its arguments first, which costs about a fifth of the
 * time of a field-sized slice. (Building a string char by char is no faster past four characters,
 * and leaves a string per character behind.)
 *
 * @internal
 */
export function latin1String(bytes: Buffer, start: number, end: number): string {
  return (bytes as unknown as Latin1Slicing).latin1Slice(start, end);
}
