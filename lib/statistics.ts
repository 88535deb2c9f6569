/**
 * Statistics gathered from handlers on an interval.
 *
 * @module
 */

/** HandlerStatistics is one handler's counters for an interval; `category` names the kind (`socket`, `http2`, …). */
export interface HandlerStatistics {
  /** What kind of handler reported it. */
  readonly category: string;
  /** Counters and facts, by name. */
  readonly [name: string]: unknown;
}

/** One statistics sample of a channel: every handler's counters for the interval that just ended. */
export interface ChannelStatisticsSample {
  /** Loop-clock time at the end of the interval, ms. */
  readonly timeMs: number;
  /** Length of the interval, ms. */
  readonly intervalMs: number;
  /** One entry per handler that reported, left to right. */
  readonly handlers: readonly HandlerStatistics[];
  /** Times so far a handler held a message larger than the whole read window of the slot to its right (a likely stall; see `ChannelSlot.canSendRight`). */
  readonly windowStalls: number;
}

/** Options turning on periodic statistics for a channel. */
export interface ChannelStatisticsOptions {
  /** How often to gather, ms. */
  intervalMs: number;
  /** Receives each sample. */
  onSample: (sample: ChannelStatisticsSample) => void;
}
