/**
 * What a frame on a closed stream gets, by frame type and by how the stream closed: RFC 9113
 * §5.1 ("closed"), §6.1 and §6.8 written down as one table.
 *
 * @module
 */
import { ClosedBy } from './closed-streams.js';
import { FrameType } from '../wire/constants.js';

/** The answer to a frame that arrives on a stream already closed. */
export const LateFrameAnswer = {
  /**
   * Ignored (RFC 9113 §5.1: a race a legal peer runs into). Free while within what the peer may
   * still have had in flight (see `ClosedStreams`); beyond it, counted as a frame doing no work.
   */
  IGNORE: 0,
  /** Ignored, and counted as a frame doing no work: no race explains it. */
  IGNORE_COUNTED: 1,
  /** Stream error STREAM_CLOSED (§5.1, §6.1): RST_STREAM, counted among the resets the peer makes us send. */
  STREAM_ERROR: 2,
  /** Connection error STREAM_CLOSED (§5.1 allows it for any frame but PRIORITY on a closed stream). */
  CONNECTION_ERROR: 3,
  /** Connection error PROTOCOL_ERROR: HEADERS reusing a peer stream id we no longer remember (§5.1.1). */
  PROTOCOL_ERROR: 4,
} as const;
/** A {@link LateFrameAnswer} value. */
export type LateFrameAnswer = (typeof LateFrameAnswer)[keyof typeof LateFrameAnswer];

const { IGNORE, IGNORE_COUNTED, STREAM_ERROR, CONNECTION_ERROR, PROTOCOL_ERROR } = LateFrameAnswer;

/** One row: the answer for each way a stream closed, and for a stream no longer remembered. */
interface LateFrameRow {
  /** Both ends sent END_STREAM, ours last: the peer had ended, so only its WINDOW_UPDATE, RST_STREAM and PRIORITY can be in flight. */
  readonly [ClosedBy.END_STREAM]: LateFrameAnswer;
  /** Both ends sent END_STREAM, the peer's last: its WINDOW_UPDATE or RST_STREAM may have crossed our END_STREAM. */
  readonly [ClosedBy.REMOTE_END_STREAM]: LateFrameAnswer;
  /** We reset it: anything the peer sent before it saw our RST_STREAM is ignored (§5.1). */
  readonly [ClosedBy.RESET_SENT]: LateFrameAnswer;
  /** The peer reset it: it may send nothing more on it but PRIORITY. */
  readonly [ClosedBy.RESET_RECEIVED]: LateFrameAnswer;
  /** A stream the peer opened, closed so long ago that the cache forgot how. */
  readonly forgotten: LateFrameAnswer;
  /** A stream we opened, closed so long ago that the cache forgot how. */
  readonly forgottenLocal: LateFrameAnswer;
}

/**
 * The table, by frame type. DATA: §6.1 demands a stream error STREAM_CLOSED on a stream not open
 * or half-closed (local), except after our reset, when the peer's DATA in flight is ignored (and
 * still counts toward the connection window). HEADERS: §5.1 lets an endpoint treat it as a
 * connection error STREAM_CLOSED — chosen, as RFC 7540 required and conformance suites expect —
 * except trailers in flight when we reset. WINDOW_UPDATE and RST_STREAM: §5.1 says they MUST be
 * ignored shortly after our END_STREAM or reset; after the peer's own reset nothing explains
 * them. PRIORITY may be sent in any state.
 */
export const LATE_FRAME_RULES: Readonly<Record<number, LateFrameRow>> = {
  [FrameType.DATA]: {
    [ClosedBy.END_STREAM]: STREAM_ERROR,
    [ClosedBy.REMOTE_END_STREAM]: STREAM_ERROR,
    [ClosedBy.RESET_SENT]: IGNORE,
    [ClosedBy.RESET_RECEIVED]: STREAM_ERROR,
    forgotten: STREAM_ERROR,
    forgottenLocal: STREAM_ERROR,
  },
  [FrameType.HEADERS]: {
    [ClosedBy.END_STREAM]: CONNECTION_ERROR,
    [ClosedBy.REMOTE_END_STREAM]: CONNECTION_ERROR,
    [ClosedBy.RESET_SENT]: IGNORE,
    [ClosedBy.RESET_RECEIVED]: CONNECTION_ERROR,
    forgotten: PROTOCOL_ERROR,
    // Perhaps a response to a request we reset long ago: nothing proves the peer wrong.
    forgottenLocal: IGNORE_COUNTED,
  },
  [FrameType.WINDOW_UPDATE]: {
    [ClosedBy.END_STREAM]: IGNORE,
    [ClosedBy.REMOTE_END_STREAM]: IGNORE,
    [ClosedBy.RESET_SENT]: IGNORE,
    [ClosedBy.RESET_RECEIVED]: IGNORE_COUNTED,
    forgotten: IGNORE_COUNTED,
    forgottenLocal: IGNORE_COUNTED,
  },
  [FrameType.RST_STREAM]: {
    [ClosedBy.END_STREAM]: IGNORE,
    [ClosedBy.REMOTE_END_STREAM]: IGNORE,
    [ClosedBy.RESET_SENT]: IGNORE,
    [ClosedBy.RESET_RECEIVED]: IGNORE_COUNTED,
    forgotten: IGNORE_COUNTED,
    forgottenLocal: IGNORE_COUNTED,
  },
  [FrameType.PRIORITY]: {
    [ClosedBy.END_STREAM]: IGNORE,
    [ClosedBy.REMOTE_END_STREAM]: IGNORE,
    [ClosedBy.RESET_SENT]: IGNORE,
    [ClosedBy.RESET_RECEIVED]: IGNORE,
    forgotten: IGNORE_COUNTED,
    forgottenLocal: IGNORE_COUNTED,
  },
};

/**
 * The answer to a frame of `frameType` (DATA, HEADERS — with its CONTINUATIONs —, WINDOW_UPDATE,
 * RST_STREAM or PRIORITY) on a closed stream that closed as `closedBy` (undefined: forgotten;
 * `isLocal`: we opened it). The caller has already answered frames on idle streams and on peer
 * streams above the last id of our GOAWAY.
 */
export function lateFrameAnswer(frameType: number, closedBy: ClosedBy | undefined, isLocal: boolean): LateFrameAnswer {
  const row = LATE_FRAME_RULES[frameType];
  if (row === undefined) return IGNORE_COUNTED;
  if (closedBy !== undefined) return row[closedBy];
  return isLocal ? row.forgottenLocal : row.forgotten;
}
