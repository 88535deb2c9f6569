/**
 * bench/channel: messages per second through a channel of K pass-through handlers, against
 * Node's `stream.pipeline` with K `PassThrough` transforms, in one run.
 *
 * ```sh
 * node dist/bench/channel.js [--quick]
 * ```
 *
 * Both sides move the same number of 64-byte messages from a source to a sink:
 *
 * - sluice: a {@link Channel} on a {@link NodeEventLoop}, no sockets. A source handler in the
 *   first slot copies the payload into pooled messages and sends them right in batches, one
 *   batch per task, as far as the read window allows; K pass-through handlers forward them;
 *   a sink in the last slot releases each message and reopens its window, and the openings
 *   travel left (batched by the channel) to wake the source.
 * - streams: a `Readable` pushing the same 64-byte payload, K `PassThrough`s and a `Writable`
 *   that counts, joined by `stream.pipeline`. The payload buffer is pushed as is (no copy,
 *   no allocation), which favours streams.
 *
 * Every K of both sides is warmed up first, then each K gets three measured runs per side,
 * interleaved; the median rate is reported. The message count is calibrated so one streams run
 * takes about a second (a fifth with --quick). The pool statistics are cumulative, warm-up
 * included, so `allocated` is every message the pool ever created.
 *
 * @module
 */
import { PassThrough, Readable, Writable, pipeline } from 'node:stream';
import { performance } from 'node:perf_hooks';
import {
  Channel,
  ChannelDirection,
  NodeEventLoop,
  PassThroughHandler,
  Task,
  TaskStatus,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
  type MessagePoolStatistics,
  type SluiceError,
} from '../handlers/index.js';

const MESSAGE_SIZE = 64;
/** Read window of every slot: 1024 messages of 64 bytes. */
const WINDOW_BYTES = 64 * 1024;
/** Messages the source sends per task at most (then it yields to the loop). */
const SOURCE_BATCH = 1024;
const HANDLER_COUNTS = [1, 4, 8] as const;
const MEASURED_RUNS = 3;

const payload = Buffer.alloc(MESSAGE_SIZE, 0x5a);

/** First slot: injects `count` messages, within the window, one batch per task. */
class SourceHandler implements ChannelHandler {
  private slot: ChannelSlot | null = null;
  private remaining = 0;
  /** One task for the whole run: scheduling it again allocates nothing. */
  private readonly sendTask = new Task((status) => this.sendBatch(status), 'bench-source');

  installed(slot: ChannelSlot): void {
    this.slot = slot;
  }

  start(count: number): void {
    this.remaining = count;
    this.slot!.channel.scheduleTaskNow(this.sendTask);
  }

  private sendBatch(status: TaskStatus): void {
    if (status === TaskStatus.CANCELED) return;
    const slot = this.slot!;
    const pool = slot.channel.messagePool;
    // The window is read once per batch: only the sink opens it, on a later task.
    const fitting = Math.floor(slot.downstreamReadWindow() / MESSAGE_SIZE);
    const batch = Math.min(this.remaining, SOURCE_BATCH, fitting);
    for (let sent = 0; sent < batch; sent++) {
      const message = pool.acquire(MESSAGE_SIZE);
      message.append(payload);
      slot.sendMessage(message, ChannelDirection.READ);
    }
    this.remaining -= batch;
    // Out of budget but not of window: continue on the next turn. Out of window: the sink's
    // openings wake the source through incrementReadWindow.
    if (this.remaining > 0 && slot.downstreamReadWindow() >= MESSAGE_SIZE) this.wake();
  }

  private wake(): void {
    if (!this.sendTask.isScheduled) this.slot!.channel.scheduleTaskNow(this.sendTask);
  }

  processReadMessage(): void {
    throw new Error('nothing is left of the source');
  }

  processWriteMessage(_slot: ChannelSlot, message: IoMessage): void {
    message.release();
  }

  incrementReadWindow(): void {
    if (this.remaining > 0) this.wake();
  }

  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  initialWindowSize(): number {
    return WINDOW_BYTES;
  }

  messageOverhead(): number {
    return 0;
  }
}

/** Last slot: counts and releases each message and reopens its window by its length. */
class SinkHandler implements ChannelHandler {
  received = 0;
  private expected = 0;
  private onDone: (() => void) | null = null;

  expect(count: number, onDone: () => void): void {
    this.received = 0;
    this.expected = count;
    this.onDone = onDone;
  }

  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const length = message.length;
    message.release();
    slot.incrementReadWindow(length);
    if (++this.received === this.expected) this.onDone?.();
  }

  processWriteMessage(): void {
    throw new Error('nothing is right of the sink');
  }

  incrementReadWindow(): void {}

  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  initialWindowSize(): number {
    return WINDOW_BYTES;
  }

  messageOverhead(): number {
    return 0;
  }
}

/** Moves `count` messages through a fresh channel of `handlerCount` pass-throughs; returns messages/s. */
async function runSluice(loop: NodeEventLoop, handlerCount: number, count: number): Promise<number> {
  const channel = new Channel(loop);
  const source = new SourceHandler();
  const sink = new SinkHandler();
  channel.appendHandler(source);
  for (let index = 0; index < handlerCount; index++) channel.appendHandler(new PassThroughHandler());
  channel.appendHandler(sink);
  await channel.whenSetup;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    sink.expect(count, resolve);
    source.start(count);
  });
  const elapsed = performance.now() - started;
  channel.shutdown();
  const error = await channel.whenShutdown;
  if (error !== null) throw error;
  if (sink.received !== count) throw new Error(`sluice moved ${sink.received} of ${count}`);
  return (count / elapsed) * 1000;
}

/** Moves `count` 64-byte chunks through `stream.pipeline` with `transformCount` PassThroughs; returns messages/s. */
function runStreams(transformCount: number, count: number): Promise<number> {
  let remaining = count;
  let receivedBytes = 0;
  const source = new Readable({
    read() {
      // Fill up to the high-water mark per call, as a real producer would.
      while (remaining > 0) {
        remaining--;
        if (!this.push(payload)) return;
      }
      this.push(null);
    },
  });
  const transforms = Array.from({ length: transformCount }, () => new PassThrough());
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      receivedBytes += chunk.length;
      callback();
    },
  });
  const started = performance.now();
  return new Promise<number>((resolve, reject) => {
    pipeline([source, ...transforms, sink], (error) => {
      if (error) {
        reject(error);
        return;
      }
      const elapsed = performance.now() - started;
      if (receivedBytes !== count * MESSAGE_SIZE) {
        reject(new Error(`streams moved ${receivedBytes} of ${count * MESSAGE_SIZE} bytes`));
        return;
      }
      resolve((count / elapsed) * 1000);
    });
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function formatRate(rate: number): string {
  return `${(rate / 1e6).toFixed(2)} M/s`.padStart(12);
}

interface Row {
  handlerCount: number;
  messages: number;
  sluiceRate: number;
  streamsRate: number;
  pool: MessagePoolStatistics;
}

/** Calibrates the message count for `handlerCount` and warms both sides up on `loop`. */
async function prepare(handlerCount: number, loop: NodeEventLoop, targetSeconds: number): Promise<number> {
  // Calibrate on streams, the slower side, so its runs last about `targetSeconds`.
  const probe = await runStreams(handlerCount, 20_000);
  const messages = Math.max(20_000, Math.round(probe * targetSeconds));
  await runSluice(loop, handlerCount, Math.ceil(messages / 2));
  await runStreams(handlerCount, Math.ceil(messages / 2));
  return messages;
}

async function measure(handlerCount: number, loop: NodeEventLoop, messages: number): Promise<Row> {
  const sluiceRates: number[] = [];
  const streamsRates: number[] = [];
  // Interleaved, so drift in machine load hits both sides alike.
  for (let run = 0; run < MEASURED_RUNS; run++) {
    sluiceRates.push(await runSluice(loop, handlerCount, messages));
    streamsRates.push(await runStreams(handlerCount, messages));
  }
  return {
    handlerCount,
    messages,
    sluiceRate: median(sluiceRates),
    streamsRate: median(streamsRates),
    // Cumulative since the loop was created, warm-up included: every message ever acquired.
    pool: loop.messagePool.statistics(),
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const isQuick = argv.includes('--quick');
  const targetSeconds = isQuick ? 0.2 : 1;
  process.stdout.write(
    `bench/channel: ${MESSAGE_SIZE}-byte messages, median of ${MEASURED_RUNS} after warm-up, Node ${process.version}${isQuick ? ' (--quick)' : ''}\n\n`,
  );
  // Every K is warmed up before any is measured, so the first K does not pay for the JIT.
  const loops = HANDLER_COUNTS.map(() => new NodeEventLoop());
  const counts: number[] = [];
  for (let index = 0; index < HANDLER_COUNTS.length; index++) {
    counts.push(await prepare(HANDLER_COUNTS[index], loops[index], targetSeconds));
  }
  const rows: Row[] = [];
  for (let index = 0; index < HANDLER_COUNTS.length; index++) {
    rows.push(await measure(HANDLER_COUNTS[index], loops[index], counts[index]));
  }

  process.stdout.write(
    `${'K'.padStart(3)} ${'messages'.padStart(10)} ${'sluice'.padStart(12)} ${'stream.pipeline'.padStart(16)} ${'sluice/stream'.padStart(14)}\n`,
  );
  for (const row of rows) {
    process.stdout.write(
      `${String(row.handlerCount).padStart(3)} ${String(row.messages).padStart(10)} ${formatRate(row.sluiceRate)} ${formatRate(row.streamsRate).padStart(16)} ${`${(row.sluiceRate / row.streamsRate).toFixed(1)}x`.padStart(14)}\n`,
    );
  }
  process.stdout.write('\nmessage pool of each K (its own loop), warm-up and measured runs together:\n');
  process.stdout.write(
    `${'K'.padStart(3)} ${'acquired'.padStart(10)} ${'reused'.padStart(10)} ${'allocated'.padStart(10)} ${'outstanding'.padStart(12)}\n`,
  );
  for (const { handlerCount, pool } of rows) {
    process.stdout.write(
      `${String(handlerCount).padStart(3)} ${String(pool.acquired).padStart(10)} ${String(pool.reused).padStart(10)} ${String(pool.allocated).padStart(10)} ${String(pool.outstanding).padStart(12)}\n`,
    );
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(
    `bench/channel failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
