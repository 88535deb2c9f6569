/**
 * Byte copying for the frame writers.
 *
 * @module
 */

/** Runs shorter than this are copied byte by byte. */
const SHORT_COPY = 64;

/**
 * Copies `source[start..end)` to `target` at `at`. Short runs go byte by byte: cheaper than the
 * view that a native copy of part of a buffer needs (one allocation per call).
 */
export function copyBytes(source: Uint8Array, start: number, end: number, target: Uint8Array, at: number): void {
  if (end - start < SHORT_COPY) {
    for (let i = start; i < end; i++) target[at++] = source[i]!;
  } else {
    target.set(source.subarray(start, end), at);
  }
}
