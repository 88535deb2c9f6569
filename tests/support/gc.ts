/**
 * Garbage collection on demand, for tests that measure live memory.
 *
 * @module
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let collect: (() => void) | null = null;

/**
 * Runs a full garbage collection. Mocha runs without `--expose-gc`, so the flag is set at run
 * time and `gc` is taken from a fresh context (V8 installs it on contexts created afterwards).
 */
export function forceGc(): void {
  if (collect === null) {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (typeof existing === 'function') {
      collect = existing;
    } else {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as () => void;
    }
  }
  collect();
}

/** Live JS heap plus ArrayBuffer memory (pooled messages, socket buffers), bytes; call after {@link forceGc}. */
export function memoryInUse(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}
