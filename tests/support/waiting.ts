/**
 * Waiting in tests over real sockets: {@link until} awaits a condition (bounded, so a broken
 * test fails instead of hanging) and {@link ioTurns} lets the event loop run a few turns when a
 * test must show that something does *not* happen.
 *
 * @module
 */

/** One event-loop turn through every phase (timers, I/O poll, immediates): a 1 ms timer. */
function timerTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * Resolves once `predicate()` holds, checking it once per event-loop turn (a 1 ms timer, so
 * sockets and immediates make progress in between). Throws `timed out waiting for <what>`
 * after `maxTurns` turns instead of hanging the test.
 */
export async function until(predicate: () => boolean, what: string, maxTurns = 10_000): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn++) {
    if (predicate()) return;
    await timerTurn();
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Lets the event loop run `count` full turns (each a 1 ms timer: I/O, immediates and timers
 * all get their chance). Use it only to give a peer the chance to do what it must not; to wait
 * for something that must happen, use {@link until}.
 */
export async function ioTurns(count: number): Promise<void> {
  for (let turn = 0; turn < count; turn++) await timerTurn();
}
