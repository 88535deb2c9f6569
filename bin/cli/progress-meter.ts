/**
 * `sluice get`'s progress line on a terminal: the transfers count their bytes as they go, and a
 * task on the connection's event loop redraws the line in place a few times a second; `finish`
 * draws it one last time and ends it with a newline.
 *
 * @module
 */
import { Task, TaskStatus, type EventLoop } from '../../handlers/index.js';
import { formatProgressLine, overwriteLine, type TransferFigures } from './progress-line.js';

/** How often the line is redrawn, ms: four times a second, like curl's meter. */
export const PROGRESS_INTERVAL_MS = 250;

/** Where the line goes: stderr when it is a terminal. */
export interface ProgressTerminal {
  write(text: string): unknown;
  /** The terminal's width in characters, when known; longer lines are cut to fit. */
  readonly columns?: number;
}

/** One body being sent or received: count its bytes with `add`, and say when it is over with `end`. */
export class Transfer {
  private bytes = 0;
  private endedAtMs: number | null = null;

  /** @internal Transfers come from {@link ProgressMeter.track}. */
  constructor(
    private readonly loop: Pick<EventLoop, 'now'>,
    readonly direction: TransferFigures['direction'],
    private total: number | null,
    private readonly startedAtMs: number,
  ) {}

  /** Counts `length` more bytes. */
  add(length: number): void {
    this.bytes += length;
  }

  /** Sets the length once it is known (a response's `content-length`), or null. */
  setTotal(total: number | null): void {
    this.total = total;
  }

  /** The transfer is over; its time stops here. Later calls change nothing. */
  end(): void {
    this.endedAtMs ??= this.loop.now();
  }

  /** Where it stands now. */
  figures(): TransferFigures {
    const isDone = this.endedAtMs !== null;
    return {
      direction: this.direction,
      bytes: this.bytes,
      total: this.total,
      elapsedMs: (this.endedAtMs ?? this.loop.now()) - this.startedAtMs,
      isDone,
    };
  }
}

/**
 * ProgressMeter draws the progress line of its transfers on `terminal`. The counting is a field
 * update per chunk; only the timer task formats and writes, at most every
 * {@link PROGRESS_INTERVAL_MS}. Nothing is written before the first redraw or `finish`, so a
 * quick transfer shows only its final line.
 */
export class ProgressMeter {
  private readonly transfers: Transfer[] = [];
  private readonly redraw = new Task((status) => this.onRedraw(status), 'progress line');
  private shownLength = 0;
  private isFinished = false;

  /** Creates a meter that draws on `terminal` using `loop`'s clock and timers; call `start` to begin. */
  constructor(
    private readonly loop: Pick<EventLoop, 'now' | 'scheduleAfter' | 'cancel'>,
    private readonly terminal: ProgressTerminal,
  ) {}

  /** A transfer to count, drawn after those tracked before it; its time starts now. */
  track(direction: TransferFigures['direction'], total: number | null): Transfer {
    const transfer = new Transfer(this.loop, direction, total, this.loop.now());
    this.transfers.push(transfer);
    return transfer;
  }

  /** Starts redrawing every {@link PROGRESS_INTERVAL_MS}. */
  start(): void {
    if (!this.isFinished) this.loop.scheduleAfter(this.redraw, PROGRESS_INTERVAL_MS);
  }

  /**
   * Stops the timer and draws the final line with a newline, the transfers still open counted
   * as over; nothing if no transfer was tracked. Idempotent.
   */
  finish(): void {
    if (this.isFinished) return;
    this.isFinished = true;
    this.loop.cancel(this.redraw);
    if (this.transfers.length === 0) return;
    for (const transfer of this.transfers) transfer.end();
    this.draw();
    this.terminal.write('\n');
  }

  private onRedraw(status: TaskStatus): void {
    if (status !== TaskStatus.RUN_READY || this.isFinished) return;
    if (this.transfers.length > 0) this.draw();
    this.loop.scheduleAfter(this.redraw, PROGRESS_INTERVAL_MS);
  }

  private draw(): void {
    const line = formatProgressLine(
      this.transfers.map((transfer) => transfer.figures()),
      this.terminal.columns,
    );
    this.terminal.write(overwriteLine(line, this.shownLength));
    this.shownLength = line.length;
  }
}
