/**
 * The HTTP/2 stream state machine of RFC 9113 §5.1 as tables: states, the events that move a
 * stream between them, and what each frame type gets in each state — including a closed stream,
 * by how it closed.
 *
 * @module
 */
import { FrameType } from '../wire/constants.js';
import type { ClosedStreams } from './closed-streams.js';

/**
 * Stream states, RFC 9113 §5.1. A request waiting for the peer's concurrency limit is idle until
 * its HEADERS go; the reserved states belong to server push, which sluice never sends and its
 * client refuses (SETTINGS_ENABLE_PUSH = 0), and are here for completeness of the table.
 */
export const StreamState = {
  /** Not opened yet. */
  IDLE: 0,
  /** Opened by HEADERS; both sides may send. */
  OPEN: 1,
  /** We sent END_STREAM; the peer may still send. */
  HALF_CLOSED_LOCAL: 2,
  /** The peer sent END_STREAM; we may still send. */
  HALF_CLOSED_REMOTE: 3,
  /** Done (ended both ways or reset). */
  CLOSED: 4,
  /** Promised by our PUSH_PROMISE (never used: sluice does not push). */
  RESERVED_LOCAL: 5,
  /** Promised by the peer's PUSH_PROMISE (never used: the client disables push). */
  RESERVED_REMOTE: 6,
} as const;
/** A {@link StreamState} value. */
export type StreamState = (typeof StreamState)[keyof typeof StreamState];

/**
 * Both sides have sent END_STREAM, ours last, and the connection has not yet closed the stream:
 * the moment between our END_STREAM being framed and the end of that frame's write step, when
 * write callbacks may still run. Closed for the protocol; it reads as
 * {@link StreamState.HALF_CLOSED_REMOTE} outside the stream until the connection closes it, so
 * `isClosed` and `onClose` agree.
 *
 * @internal
 */
export const CLOSING = 7;

/** A stream's internal state: a {@link StreamState} or {@link CLOSING}. @internal */
export type StreamPhase = StreamState | typeof CLOSING;

/** Events that move a stream between states (the arrows of RFC 9113 §5.1's figure). @internal */
export const StreamEvent = {
  SEND_HEADERS: 0,
  RECEIVE_HEADERS: 1,
  SEND_END_STREAM: 2,
  RECEIVE_END_STREAM: 3,
  SEND_RST_STREAM: 4,
  RECEIVE_RST_STREAM: 5,
  SEND_PUSH_PROMISE: 6,
  RECEIVE_PUSH_PROMISE: 7,
} as const;
/** A {@link StreamEvent} value. @internal */
export type StreamEvent = (typeof StreamEvent)[keyof typeof StreamEvent];

const EVENT_COUNT = 8;
const PHASE_COUNT = 8;
/** No such transition. */
const INVALID = -1;

const { IDLE, OPEN, HALF_CLOSED_LOCAL, HALF_CLOSED_REMOTE, CLOSED, RESERVED_LOCAL, RESERVED_REMOTE } = StreamState;
const E = StreamEvent;

/**
 * The transitions, by state: the state each event leads to; an event missing from a row is not
 * allowed in that state. Resets close a stream from any state but idle (where only our own
 * cancel of a request not yet sent applies, §6.4: no RST_STREAM goes on the wire for it).
 */
const TRANSITION_ROWS: Readonly<Record<StreamPhase, Partial<Record<StreamEvent, StreamPhase>>>> = {
  [IDLE]: {
    [E.SEND_HEADERS]: OPEN,
    [E.RECEIVE_HEADERS]: OPEN,
    [E.SEND_PUSH_PROMISE]: RESERVED_LOCAL,
    [E.RECEIVE_PUSH_PROMISE]: RESERVED_REMOTE,
    [E.SEND_RST_STREAM]: CLOSED,
  },
  [RESERVED_LOCAL]: {
    [E.SEND_HEADERS]: HALF_CLOSED_REMOTE,
    [E.SEND_RST_STREAM]: CLOSED,
    [E.RECEIVE_RST_STREAM]: CLOSED,
  },
  [RESERVED_REMOTE]: {
    [E.RECEIVE_HEADERS]: HALF_CLOSED_LOCAL,
    [E.SEND_RST_STREAM]: CLOSED,
    [E.RECEIVE_RST_STREAM]: CLOSED,
  },
  [OPEN]: {
    [E.SEND_HEADERS]: OPEN,
    [E.RECEIVE_HEADERS]: OPEN,
    [E.SEND_END_STREAM]: HALF_CLOSED_LOCAL,
    [E.RECEIVE_END_STREAM]: HALF_CLOSED_REMOTE,
    [E.SEND_RST_STREAM]: CLOSED,
    [E.RECEIVE_RST_STREAM]: CLOSED,
  },
  [HALF_CLOSED_LOCAL]: {
    [E.RECEIVE_HEADERS]: HALF_CLOSED_LOCAL,
    [E.RECEIVE_END_STREAM]: CLOSED,
    [E.SEND_RST_STREAM]: CLOSED,
    [E.RECEIVE_RST_STREAM]: CLOSED,
  },
  [HALF_CLOSED_REMOTE]: {
    [E.SEND_HEADERS]: HALF_CLOSED_REMOTE,
    [E.SEND_END_STREAM]: CLOSING,
    [E.SEND_RST_STREAM]: CLOSED,
    [E.RECEIVE_RST_STREAM]: CLOSED,
  },
  [CLOSING]: {
    [E.SEND_RST_STREAM]: CLOSED,
    [E.RECEIVE_RST_STREAM]: CLOSED,
  },
  [CLOSED]: {},
};

/** The transitions as one flat table, `[phase * EVENT_COUNT + event]`: one load per event. */
const TRANSITIONS: Int8Array = (() => {
  const table = new Int8Array(PHASE_COUNT * EVENT_COUNT).fill(INVALID);
  for (let phase = 0; phase < PHASE_COUNT; phase++) {
    const row = TRANSITION_ROWS[phase as StreamPhase];
    for (let event = 0; event < EVENT_COUNT; event++) {
      const next = row[event as StreamEvent];
      if (next !== undefined) table[phase * EVENT_COUNT + event] = next;
    }
  }
  return table;
})();

/**
 * The state `event` leads to from `phase`, or -1 when the event is not allowed there.
 * @internal
 */
export function nextStreamPhase(phase: StreamPhase, event: StreamEvent): StreamPhase | -1 {
  return TRANSITIONS[phase * EVENT_COUNT + event] as StreamPhase | -1;
}

// ---------------------------------------------------------------- closed streams: what a legal peer may still send

/** How a stream closed, which decides what a late frame on it gets (RFC 9113 §5.1). */
export const ClosedBy = {
  /** Both sides ended normally, our END_STREAM last (the peer had ended its side before). */
  END_STREAM: 0,
  /** We sent RST_STREAM: frames the peer sent before seeing it are ignored. */
  RESET_SENT: 1,
  /** The peer sent RST_STREAM. */
  RESET_RECEIVED: 2,
  /** Both sides ended normally, the peer's END_STREAM last (we had ended our side before). */
  REMOTE_END_STREAM: 3,
} as const;
/** A {@link ClosedBy} value. */
export type ClosedBy = (typeof ClosedBy)[keyof typeof ClosedBy];

/**
 * A WINDOW_UPDATE may also raise a window the peer wants larger, not only return credit; one
 * initial window (RFC 9113 §6.9.2) of such slack per stream covers a raise that crossed the close.
 */
const WINDOW_RAISE_SLACK = 65_535;

/** One-off late frames a legal peer may send once per closed stream (bits). @internal */
export const LateOnce = {
  /** A RST_STREAM crossing the END_STREAM or reset that closed the stream. */
  RST_STREAM: 1,
  /** The peer's trailers (or an empty END_STREAM DATA frame) in flight when we reset. */
  END: 2,
  /** A PRIORITY frame (RFC 9113 §5.1 allows PRIORITY in every state). */
  PRIORITY: 4,
  /** A PRIORITY_UPDATE (RFC 9218 §7.1) sent before the client saw the stream close. */
  PRIORITY_UPDATE: 8,
} as const;
/** Every {@link LateOnce} frame, each still free. @internal */
export const ALL_LATE_ONCE = LateOnce.RST_STREAM | LateOnce.END | LateOnce.PRIORITY | LateOnce.PRIORITY_UPDATE;

/**
 * Late WINDOW_UPDATE frames a legal peer may still send on a closed stream after we sent
 * `dataFramesSent` DATA frames on it: one per frame, plus one.
 *
 * @internal
 */
export function lateWindowUpdateFrames(dataFramesSent: number): number {
  return dataFramesSent + 1;
}

/**
 * Late WINDOW_UPDATE credit a legal peer may still send on a closed stream after we sent
 * `dataBytesSent` DATA bytes on it: that credit back, plus one window raise.
 *
 * @internal
 */
export function lateWindowUpdateCredit(dataBytesSent: number): number {
  return dataBytesSent + WINDOW_RAISE_SLACK;
}

/** What a received frame gets on a stream, by the stream's state. @internal */
export const FrameAnswer = {
  /** Processed. */
  ACCEPT: 0,
  /**
   * Ignored (RFC 9113 §5.1: a race a legal peer runs into). Free while within what the peer may
   * still have had in flight (see `ClosedStreams`); beyond it, counted as a frame doing no work.
   */
  IGNORE: 1,
  /** Ignored, and counted as a frame doing no work: no race explains it. */
  IGNORE_COUNTED: 2,
  /** Stream error STREAM_CLOSED (§5.1, §6.1): RST_STREAM, counted among the resets the peer makes us send. */
  STREAM_ERROR: 3,
  /** Connection error STREAM_CLOSED (§5.1 allows it for any frame but PRIORITY on a closed stream). */
  CONNECTION_ERROR: 4,
  /**
   * Connection error PROTOCOL_ERROR: a frame an idle or reserved stream cannot receive (§5.1),
   * or HEADERS reusing a peer stream id we no longer remember (§5.1.1).
   */
  PROTOCOL_ERROR: 5,
} as const;
/** A {@link FrameAnswer} value. @internal */
export type FrameAnswer = (typeof FrameAnswer)[keyof typeof FrameAnswer];

/**
 * Rows of the receive table beyond the phases: a closed stream by how it closed
 * (`CLOSED_BY + ClosedBy`), and one closed so long ago that the closed-stream cache forgot how.
 *
 * @internal
 */
export const ReceiveRow = {
  /** First of the rows by {@link ClosedBy}: the row of a stream closed as `closedBy` is `CLOSED_BY + closedBy`. */
  CLOSED_BY: PHASE_COUNT,
  /** A stream the peer opened, closed and forgotten. */
  FORGOTTEN: PHASE_COUNT + 4,
  /** A stream we opened, closed and forgotten. */
  FORGOTTEN_LOCAL: PHASE_COUNT + 5,
} as const;
const ROW_COUNT = PHASE_COUNT + 6;

/** The frame types with a column; any other type on a stream is ignored and counted. */
const FRAME_COLUMNS = [
  FrameType.DATA,
  FrameType.HEADERS,
  FrameType.PRIORITY,
  FrameType.RST_STREAM,
  FrameType.PUSH_PROMISE,
  FrameType.WINDOW_UPDATE,
] as const;
const FRAME_SLOTS = 16;

const { ACCEPT, IGNORE, IGNORE_COUNTED, STREAM_ERROR, CONNECTION_ERROR, PROTOCOL_ERROR } = FrameAnswer;
type Row = readonly [
  data: FrameAnswer,
  headers: FrameAnswer,
  priority: FrameAnswer,
  rstStream: FrameAnswer,
  pushPromise: FrameAnswer,
  windowUpdate: FrameAnswer,
];

/**
 * The receive table, the way aws-c-http's `h2_stream.c` writes it: one row per state, one
 * column per frame type (DATA, HEADERS — with its CONTINUATIONs —, PRIORITY, RST_STREAM,
 * PUSH_PROMISE, WINDOW_UPDATE). PRIORITY may arrive in every state (§5.1). PUSH_PROMISE is the
 * connection's business (the client disabled push, §8.4): it never reaches a stream, and on a
 * closed one it is counted like any frame no race explains.
 *
 * Closed streams, by how they closed (§5.1 "closed", §6.1, §6.8). DATA: §6.1 demands a stream
 * error STREAM_CLOSED on a stream not open or half-closed (local), except after our reset, when
 * the peer's DATA in flight is ignored (and still counts toward the connection window). HEADERS:
 * §5.1 lets an endpoint treat it as a connection error STREAM_CLOSED — chosen, as RFC 7540
 * required and conformance suites expect — except trailers in flight when we reset.
 * WINDOW_UPDATE and RST_STREAM: §5.1 says they MUST be ignored shortly after our END_STREAM or
 * reset; after the peer's own reset nothing explains them.
 */
const RECEIVE_ROWS: Readonly<Record<number, Row>> = {
  // RFC 9113 §5.1 "idle": HEADERS opens, PRIORITY is allowed, anything else is a PROTOCOL_ERROR.
  [IDLE]: [PROTOCOL_ERROR, ACCEPT, ACCEPT, PROTOCOL_ERROR, PROTOCOL_ERROR, PROTOCOL_ERROR],
  [OPEN]: [ACCEPT, ACCEPT, ACCEPT, ACCEPT, ACCEPT, ACCEPT],
  [HALF_CLOSED_LOCAL]: [ACCEPT, ACCEPT, ACCEPT, ACCEPT, ACCEPT, ACCEPT],
  // "half-closed (remote)": the peer ended; more DATA or HEADERS is a stream error STREAM_CLOSED.
  [HALF_CLOSED_REMOTE]: [STREAM_ERROR, STREAM_ERROR, ACCEPT, ACCEPT, ACCEPT, ACCEPT],
  [CLOSING]: [STREAM_ERROR, STREAM_ERROR, ACCEPT, ACCEPT, ACCEPT, ACCEPT],
  // "closed" in general; the rows by how it closed below are what a connection uses.
  [CLOSED]: [STREAM_ERROR, CONNECTION_ERROR, ACCEPT, IGNORE_COUNTED, PROTOCOL_ERROR, IGNORE_COUNTED],
  [RESERVED_LOCAL]: [PROTOCOL_ERROR, PROTOCOL_ERROR, ACCEPT, ACCEPT, PROTOCOL_ERROR, ACCEPT],
  [RESERVED_REMOTE]: [PROTOCOL_ERROR, ACCEPT, ACCEPT, ACCEPT, PROTOCOL_ERROR, PROTOCOL_ERROR],
  // Both ends sent END_STREAM, ours last: only the peer's WINDOW_UPDATE, RST_STREAM and PRIORITY can be in flight.
  [ReceiveRow.CLOSED_BY + ClosedBy.END_STREAM]: [
    STREAM_ERROR,
    CONNECTION_ERROR,
    IGNORE,
    IGNORE,
    IGNORE_COUNTED,
    IGNORE,
  ],
  // Both ends sent END_STREAM, the peer's last: its WINDOW_UPDATE or RST_STREAM may have crossed our END_STREAM.
  [ReceiveRow.CLOSED_BY + ClosedBy.REMOTE_END_STREAM]: [
    STREAM_ERROR,
    CONNECTION_ERROR,
    IGNORE,
    IGNORE,
    IGNORE_COUNTED,
    IGNORE,
  ],
  // We reset it: anything the peer sent before it saw our RST_STREAM is ignored (§5.1).
  [ReceiveRow.CLOSED_BY + ClosedBy.RESET_SENT]: [IGNORE, IGNORE, IGNORE, IGNORE, IGNORE_COUNTED, IGNORE],
  // The peer reset it: it may send nothing more on it but PRIORITY.
  [ReceiveRow.CLOSED_BY + ClosedBy.RESET_RECEIVED]: [
    STREAM_ERROR,
    CONNECTION_ERROR,
    IGNORE,
    IGNORE_COUNTED,
    IGNORE_COUNTED,
    IGNORE_COUNTED,
  ],
  [ReceiveRow.FORGOTTEN]: [
    STREAM_ERROR,
    PROTOCOL_ERROR,
    IGNORE_COUNTED,
    IGNORE_COUNTED,
    IGNORE_COUNTED,
    IGNORE_COUNTED,
  ],
  // Perhaps a response to a request we reset long ago: nothing proves the peer wrong.
  [ReceiveRow.FORGOTTEN_LOCAL]: [
    STREAM_ERROR,
    IGNORE_COUNTED,
    IGNORE_COUNTED,
    IGNORE_COUNTED,
    IGNORE_COUNTED,
    IGNORE_COUNTED,
  ],
};

/** The receive table as one flat array, `[row * FRAME_SLOTS + frameType]`: one load per frame. */
const RECEIVE: Uint8Array = (() => {
  const table = new Uint8Array(ROW_COUNT * FRAME_SLOTS).fill(IGNORE_COUNTED);
  for (let row = 0; row < ROW_COUNT; row++) {
    const answers = RECEIVE_ROWS[row];
    for (let column = 0; column < FRAME_COLUMNS.length; column++)
      table[row * FRAME_SLOTS + FRAME_COLUMNS[column]] = answers[column];
  }
  return table;
})();

/**
 * What a frame of `frameType` gets on a stream in `phase`.
 * @internal
 */
export function receiveAnswer(phase: StreamPhase, frameType: number): FrameAnswer {
  return frameType < FRAME_SLOTS ? (RECEIVE[phase * FRAME_SLOTS + frameType] as FrameAnswer) : IGNORE_COUNTED;
}

/**
 * What a frame of `frameType` gets on a closed stream that closed as `closedBy` (undefined: the
 * cache forgot it; `isLocal`: we opened it). The caller has already answered frames on idle
 * streams and on peer streams above the last id of our GOAWAY.
 *
 * @internal
 */
export function lateFrameAnswer(frameType: number, closedBy: ClosedBy | undefined, isLocal: boolean): FrameAnswer {
  const row =
    closedBy !== undefined
      ? ReceiveRow.CLOSED_BY + closedBy
      : isLocal
        ? ReceiveRow.FORGOTTEN_LOCAL
        : ReceiveRow.FORGOTTEN;
  return frameType < FRAME_SLOTS ? (RECEIVE[row * FRAME_SLOTS + frameType] as FrameAnswer) : IGNORE_COUNTED;
}

/**
 * Whether a late frame the table answers {@link FrameAnswer.IGNORE} is within what a legal peer
 * may still have sent on the stream (RFC 9113 §5.1's races), drawing on the allowances `closed`
 * keeps for it: credit for our DATA (WINDOW_UPDATE), DATA its window allowed after our reset, one
 * end (trailers or an empty END_STREAM), one RST_STREAM, one PRIORITY. `amount` is a DATA
 * frame's flow-controlled length or a WINDOW_UPDATE's increment.
 *
 * @internal
 */
export function isLegalLateFrame(
  closed: ClosedStreams,
  streamId: number,
  frameType: number,
  amount: number,
  isEndStream: boolean,
): boolean {
  switch (frameType) {
    case FrameType.DATA:
      // An empty DATA frame without END_STREAM was counted already, as a frame doing no work.
      return amount > 0 ? closed.takeData(streamId, amount) : !isEndStream || closed.takeEnd(streamId);
    case FrameType.HEADERS:
      return closed.takeEnd(streamId);
    case FrameType.WINDOW_UPDATE:
      return closed.takeWindowUpdate(streamId, amount);
    case FrameType.RST_STREAM:
      return closed.takeRstStream(streamId);
    case FrameType.PRIORITY:
      return closed.takePriority(streamId);
    default:
      return false;
  }
}
