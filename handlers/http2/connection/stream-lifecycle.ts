/**
 * The streams of a connection from open to closed: opening (ours and the peer's), the frames
 * that arrive on them, resets, closing, and the closed-stream table for frames that come late.
 *
 * @module
 * @internal
 */
import { ChannelErrors, LogLevel, SluiceError, asSluiceError, log } from '../../../lib/index.js';
import { describeThrown } from '../../../lib/argument-checks.js';
import { Http2ConnectionError, Http2StreamError } from '../errors.js';
import { ErrorCode, FrameType, MAX_STREAM_ID, frameTypeName } from '../wire/constants.js';
import { HEADER_LIST_TOO_LARGE } from '../wire/hpack-decoder.js';
import { AbuseBudgets } from './abuse-budgets.js';
import { ClosedBy, ClosedStreams } from './closed-streams.js';
import type { Http2Headers, Http2PeerSettings } from './connection-options.js';
import type { ResolvedHttp2Options } from './resolved-options.js';
import type { ControlFrameWriter } from './control-frame-writer.js';
import { addOutbound, consumeInbound, returnInboundCredit, shiftInbound } from './flow-window.js';
import { CONTENT_LENGTH_ABSENT, HeaderBlockKind, malformedHeaderError, validateHeaderBlock } from './header-rules.js';
import { SUMMARY, type HeaderState } from './header-state.js';
import { Http2Stream, type Http2StreamFailure, type Http2StreamHost } from './http2-stream.js';
import {
  CLOSING,
  FrameAnswer,
  StreamEvent,
  StreamState,
  isLegalLateFrame,
  lateFrameAnswer,
  receiveAnswer,
} from './stream-state.js';
import type { OutgoingFramesTask } from './outgoing-frames-task.js';
import type { SettingsExchange } from './settings-exchange.js';
import { StreamTable } from './stream-table.js';
import { PrioritySignals, TUNNEL_RANK, requestRank } from './priority-signals.js';
import { DEFAULT_RANK, EXPLICIT_PRIORITY, priorityFieldValue } from './priority.js';
import { isWatchingStreams, publishStreamFinished, publishStreamStarted } from './stream-diagnostics.js';

/**
 * What the stream lifecycle needs from its connection (which is also every stream's host).
 * @internal
 */
export interface StreamLifecycleHost extends Http2StreamHost {
  readonly role: 'client' | 'server';
  readonly options: ResolvedHttp2Options;
  readonly peerSettings: Http2PeerSettings;
  readonly outgoing: OutgoingFramesTask;
  /** Receive credit is returned by the application rather than automatically. */
  readonly isConnectionWindowManual: boolean;
  /** Last stream id announced in our final GOAWAY (peer streams above it are ignored), or 2^31-1. */
  readonly goawaySentLastStreamId: number;
  readonly frames: ControlFrameWriter;
  readonly headers: HeaderState;
  readonly settings: SettingsExchange;
  /** Loop time now. */
  now(): number;
  /** Returns connection receive credit (batched WINDOW_UPDATE). */
  returnConnectionCredit(size: number): void;
  /** A stream closed (the client may open a waiting one). */
  onStreamClosed(stream: Http2Stream): void;
  /** The peer opened `stream` and `onStream` ran (the server times its body; CONNECT is exempt). */
  onPeerStreamOpened(stream: Http2Stream, isEndStream: boolean, isConnect: boolean): void;
  /** Shuts the channel down once a graceful close has no streams left. */
  maybeFinishClosing(): void;
}

/**
 * StreamLifecycle owns one connection's streams: the table of open streams, stream ids (RFC 9113
 * §5.1.1), concurrency counts, the state changes of §5.1 as frames arrive and leave, and the
 * {@link ClosedStreams} table that decides what a frame on a stream no longer open gets. A
 * callback of the application that throws fails its own stream alone (RST_STREAM
 * INTERNAL_ERROR).
 *
 * @internal
 */
export class StreamLifecycle extends StreamTable {
  /** Highest stream id the peer opened. */
  lastPeerStreamId = 0;
  /** Next id for a stream we open. */
  nextLocalStreamId: number;
  /** Streams we opened that are not closed. */
  activeLocalStreams = 0;
  /** Streams the peer opened that are not closed (or whose slot the application holds). */
  activePeerStreams = 0;
  private readonly closedStreams: ClosedStreams;
  /** Made by the first event a budget counts: most connections never see one. */
  private budgetsValue: AbuseBudgets | null = null;
  /** Made by the first priority signal beyond a request's field. */
  private signalsValue: PrioritySignals | null = null;

  /** The lifecycle of one connection; `isServer` picks the parity of our stream ids. */
  constructor(
    private readonly host: StreamLifecycleHost,
    isServer: boolean,
  ) {
    super();
    // RFC 9113 §5.1.1: clients open odd stream ids, servers even ones.
    this.nextLocalStreamId = isServer ? 2 : 1;
    this.closedStreams = new ClosedStreams(host.options.maxClosedStreams);
  }

  /**
   * The open streams by id: the lifecycle is the table itself (one object per connection, not
   * two — an idle connection keeps both).
   */
  get streams(): StreamTable {
    return this;
  }

  // The connection's other parts, reached through the host: no pointer to each per connection.
  private get frames(): ControlFrameWriter {
    return this.host.frames;
  }

  private get headers(): HeaderState {
    return this.host.headers;
  }

  private get settings(): SettingsExchange {
    return this.host.settings;
  }

  private get budgets(): AbuseBudgets {
    return (this.budgetsValue ??= new AbuseBudgets(this.host.options));
  }

  /** PRIORITY_UPDATE frames and the application's priority changes (RFC 9218). */
  get signals(): PrioritySignals {
    return (this.signalsValue ??= new PrioritySignals(this, this.host, this.closedStreams));
  }

  /** Whether another local stream id is available (RFC 9113 §5.1.1). */
  get hasStreamIdsLeft(): boolean {
    return this.nextLocalStreamId <= MAX_STREAM_ID;
  }

  /** Peer-initiated ids: odd for a server's peer, even for a client's (RFC 9113 §5.1.1). */
  isPeerStreamId(streamId: number): boolean {
    return (streamId & 1) === (this.host.role === 'server' ? 1 : 0);
  }

  /** An idle stream: never opened by either side (RFC 9113 §5.1). */
  isIdleStream(streamId: number): boolean {
    return this.isPeerStreamId(streamId) ? streamId > this.lastPeerStreamId : streamId >= this.nextLocalStreamId;
  }

  /** Creates a stream object for this connection. */
  newStream(id: number, isLocal: boolean): Http2Stream {
    const host = this.host;
    return new Http2Stream(
      host,
      id,
      isLocal,
      host.peerSettings.initialWindowSize,
      this.settings.localInitialWindowSize,
      host.options.windowMode === 'manual',
    );
  }

  /** Opens a local stream now (the caller checked limits) and queues its HEADERS. */
  openLocal(stream: Http2Stream, headers: Http2Headers, isEndStream: boolean): void {
    const id = this.nextLocalStreamId;
    this.nextLocalStreamId += 2;
    stream._assignId(id, this.host.peerSettings.initialWindowSize, this.settings.localInitialWindowSize);
    this.streams.set(id, stream);
    this.activeLocalStreams++;
    stream._apply(StreamEvent.SEND_HEADERS);
    if (isEndStream) {
      stream._isEndQueued = true;
      stream._apply(StreamEvent.SEND_END_STREAM);
    }
    stream._areHeadersSent = true;
    // A priority the application chose goes in the request's field (RFC 9218 §5).
    const sent = (stream._priority & EXPLICIT_PRIORITY) === 0 ? headers : withPriorityField(headers, stream._priority);
    this.frames.headerBlock(id, this.headers.encode(sent), isEndStream);
    publishStreamStarted(this.host.channelSlot!.channel.id, id, 'local');
    if (stream._pendingBytes > 0 || (stream._isEndQueued && !stream._isEndSent))
      this.host.outgoing.addDataStream(stream);
  }

  // ---------------------------------------------------------------- frames on open streams

  /** DATA on an open `stream` (RFC 9113 §6.1), counted in the connection window already. */
  onData(
    stream: Http2Stream,
    data: Uint8Array,
    start: number,
    end: number,
    flowControlledLength: number,
    isEndStream: boolean,
  ): void {
    const host = this.host;
    const streamId = stream.id;
    if (receiveAnswer(stream._phase, FrameType.DATA) !== FrameAnswer.ACCEPT) {
      // Half-closed (remote): the peer ended the stream (RFC 9113 §5.1, §6.1).
      host.returnConnectionCredit(flowControlledLength);
      this.resetStream(
        stream,
        new Http2StreamError(streamId, ErrorCode.STREAM_CLOSED, 'DATA after END_STREAM (RFC 9113 §5.1)'),
      );
      return;
    }
    if (!consumeInbound(stream, flowControlledLength)) {
      host.returnConnectionCredit(flowControlledLength);
      this.resetStream(
        stream,
        new Http2StreamError(
          streamId,
          ErrorCode.FLOW_CONTROL_ERROR,
          `DATA exceeds the stream receive window of ${stream._inAvailable}`,
        ),
      );
      return;
    }
    const dataLength = end - start;
    const padding = flowControlledLength - dataLength;
    if (padding > 0) {
      // Padding is never delivered: its credit goes back at once.
      this.returnStreamCredit(stream, padding);
      host.returnConnectionCredit(padding);
    }
    if (dataLength > 0) {
      stream._receivedBodyBytes += dataLength;
      if (stream._expectedContentLength >= 0 && stream._receivedBodyBytes > stream._expectedContentLength) {
        host.returnConnectionCredit(dataLength);
        this.resetStream(
          stream,
          new Http2StreamError(streamId, ErrorCode.PROTOCOL_ERROR, 'DATA exceeds content-length (RFC 9113 §8.1.1)'),
        );
        return;
      }
      if (stream.isManualWindow) stream._heldCredit += dataLength;
      // With END_STREAM the peer sends no more on the stream: its credit is not worth a WINDOW_UPDATE.
      else if (!isEndStream) this.returnStreamCredit(stream, dataLength);
      if (!host.isConnectionWindowManual || !stream.isManualWindow) host.returnConnectionCredit(dataLength);
      try {
        stream.handler.onData?.(stream, data, start, end);
      } catch (thrown) {
        this.failStreamCallback(stream, thrown, 'onData');
      }
      if (stream.isClosed) return;
    }
    if (isEndStream) this.onRemoteEnd(stream);
  }

  /** A decoded header block for `streamId` (RFC 9113 §6.2, §8). */
  onHeaders(streamId: number, fields: string[] | typeof HEADER_LIST_TOO_LARGE, isEndStream: boolean): void {
    const stream = this.streams.get(streamId);
    if (stream !== undefined) {
      this.onHeadersForStream(stream, fields, isEndStream);
      return;
    }
    if (this.isPeerStreamId(streamId) && streamId > this.lastPeerStreamId) {
      this.onNewPeerStream(streamId, fields, isEndStream);
      return;
    }
    this.onFrameForMissingStream(streamId, FrameType.HEADERS);
  }

  /**
   * The request of an h2c upgrade (RFC 7540 §3.2): stream 1, opened by the client's HTTP/1.1
   * request and half-closed from its side (the request had no body), goes through the path of a
   * HEADERS that opens a peer stream with END_STREAM — the same checks and `onStream`. Only before
   * any peer stream was opened.
   */
  openUpgradedStream(fields: string[]): void {
    if (this.lastPeerStreamId !== 0) {
      throw new Http2ConnectionError(ErrorCode.INTERNAL_ERROR, 'an h2c upgrade after streams were opened');
    }
    this.onNewPeerStream(1, fields, true);
  }

  /** RST_STREAM on an open `stream` (RFC 9113 §6.4). */
  onRstStream(stream: Http2Stream, errorCode: number): void {
    // Rapid Reset (CVE-2023-44487): opening and resetting streams costs the peer nothing. Only
    // resets that close a stream count; a late one on a closed stream is the table's business.
    this.budgets.countPeerReset(this.host.now());
    const error = new Http2StreamError(stream.id, errorCode, `stream reset by the peer`, {
      retryable: errorCode === ErrorCode.REFUSED_STREAM,
    });
    this.closeStream(stream, error, ClosedBy.RESET_RECEIVED);
  }

  /** WINDOW_UPDATE on an open `stream` (RFC 9113 §6.9): overflow is a stream error. */
  onWindowUpdate(stream: Http2Stream, increment: number): void {
    if (!addOutbound(stream, increment)) {
      this.resetStream(
        stream,
        new Http2StreamError(
          stream.id,
          ErrorCode.FLOW_CONTROL_ERROR,
          'stream send window above 2^31-1 (RFC 9113 §6.9.1)',
        ),
      );
      return;
    }
    if (stream._hasFrameReady) this.host.outgoing.addDataStream(stream);
  }

  /** A stream error the decoder found in a frame. */
  onStreamError(error: Http2StreamError): void {
    const streamId = error.streamId;
    const stream = this.streams.get(streamId);
    if (stream !== undefined) {
      this.resetStream(stream, error);
      return;
    }
    if (this.isIdleStream(streamId)) {
      // RFC 9113 §5.1: on an idle stream only HEADERS and PRIORITY may arrive; anything else (here a
      // WINDOW_UPDATE with increment 0, which the decoder reports as a stream error) is a connection
      // PROTOCOL_ERROR, and RST_STREAM must not be sent for an idle stream (§6.4).
      if (error.frameType === FrameType.WINDOW_UPDATE) {
        throw new Http2ConnectionError(
          ErrorCode.PROTOCOL_ERROR,
          `WINDOW_UPDATE on idle stream ${streamId} (RFC 9113 §5.1)`,
        );
      }
      // A HEADERS or PRIORITY that depends on itself: the reset stream counts as opened and reset, so
      // the header block the decoder delivers next is decoded and ignored instead of opening it.
      if (this.isPeerStreamId(streamId)) this.lastPeerStreamId = streamId;
    }
    this.resetClosedStream(streamId, error.errorCode);
  }

  // ---------------------------------------------------------------- frames on streams not open

  /**
   * A frame for a stream we do not track: on an idle stream a connection PROTOCOL_ERROR (RFC 9113
   * §5.1); on a peer stream above the last id of our GOAWAY ignored (§6.8); on a closed stream the
   * answer of the closed-stream table ({@link lateFrameAnswer}). `amount` is a DATA frame's
   * flow-controlled length or a WINDOW_UPDATE's increment.
   */
  onFrameForMissingStream(streamId: number, frameType: number, amount = 0, isEndStream = false): void {
    if (this.isIdleStream(streamId)) {
      throw new Http2ConnectionError(
        ErrorCode.PROTOCOL_ERROR,
        `${frameTypeName(frameType)} on idle stream ${streamId} (RFC 9113 §5.1)`,
      );
    }
    const isPeerStream = this.isPeerStreamId(streamId);
    if (isPeerStream && streamId > this.host.goawaySentLastStreamId) return;
    const name = frameTypeName(frameType);
    switch (lateFrameAnswer(frameType, this.closedStreams.get(streamId), !isPeerStream)) {
      case FrameAnswer.IGNORE:
        if (!isLegalLateFrame(this.closedStreams, streamId, frameType, amount, isEndStream))
          this.countGlitch(`${name} on a closed stream, beyond what a peer may still send`);
        return;
      case FrameAnswer.IGNORE_COUNTED:
        this.countGlitch(`${name} on a closed stream`);
        return;
      case FrameAnswer.STREAM_ERROR:
        this.resetClosedStream(streamId, ErrorCode.STREAM_CLOSED);
        return;
      case FrameAnswer.CONNECTION_ERROR:
        throw new Http2ConnectionError(ErrorCode.STREAM_CLOSED, `${name} on closed stream ${streamId} (RFC 9113 §5.1)`);
      case FrameAnswer.PROTOCOL_ERROR:
        throw new Http2ConnectionError(
          ErrorCode.PROTOCOL_ERROR,
          `HEADERS opening stream ${streamId} below the highest stream id ${this.lastPeerStreamId} (RFC 9113 §5.1.1)`,
        );
      default:
      // ACCEPT: no closed row has it.
    }
  }

  /** Counts a frame that did no useful work (see {@link AbuseBudgets.countGlitch}). */
  countGlitch(what: string): void {
    this.budgets.countGlitch(what, this.host.now());
  }

  /** MadeYouReset (CVE-2025-8671): resets the peer makes us send are bounded like its own. */
  private countLocalReset(): void {
    this.budgets.countLocalReset(this.host.now());
  }

  /**
   * RST_STREAM for a stream that is not open — closed (a late frame with a stream error) or idle
   * (a stream error in the frame that would have opened it): from now on, what the peer sent
   * before it sees our reset is ignored, up to a window of DATA.
   */
  private resetClosedStream(streamId: number, errorCode: number): void {
    this.countLocalReset();
    this.frames.rstStream(streamId, errorCode);
    this.closedStreams.markReset(streamId, this.settings.localInitialWindowSize);
  }

  private refuseStream(streamId: number, errorCode: number): void {
    this.countLocalReset();
    this.frames.rstStream(streamId, errorCode);
    // The request's body may be in flight, up to the window the stream would have had.
    this.closedStreams.add(streamId, ClosedBy.RESET_SENT, 0, 0, this.settings.localInitialWindowSize);
  }

  // ---------------------------------------------------------------- header blocks

  private onNewPeerStream(
    streamId: number,
    fields: string[] | typeof HEADER_LIST_TOO_LARGE,
    isEndStream: boolean,
  ): void {
    const host = this.host;
    this.lastPeerStreamId = streamId;
    if (streamId > host.goawaySentLastStreamId) return; // after our final GOAWAY: ignored (§6.8)
    if (host.role === 'client') {
      // A server cannot open streams without PUSH_PROMISE, which the client disabled.
      throw new Http2ConnectionError(
        ErrorCode.PROTOCOL_ERROR,
        `server opened stream ${streamId} with HEADERS (RFC 9113 §8.4)`,
      );
    }
    if (fields === HEADER_LIST_TOO_LARGE) {
      this.refuseStream(streamId, ErrorCode.REFUSED_STREAM);
      return;
    }
    if (this.activePeerStreams >= host.options.maxConcurrentStreams) {
      // RFC 9113 §5.1.2: REFUSED_STREAM tells the client it may retry.
      this.refuseStream(streamId, ErrorCode.REFUSED_STREAM);
      return;
    }
    if (!this.headers.isValidRequest(fields)) {
      this.refuseStream(streamId, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    const stream = this.newStream(streamId, false);
    stream._expectedContentLength = SUMMARY.contentLength;
    if (SUMMARY.priority !== null || SUMMARY.method === 'CONNECT')
      stream._priority = requestRank(SUMMARY.priority, SUMMARY.method === 'CONNECT' ? TUNNEL_RANK : DEFAULT_RANK);
    this.signalsValue?.onPeerStreamOpened(stream);
    stream._isHead = SUMMARY.method === 'HEAD';
    stream._discardsWrites = stream._isHead;
    stream._hasFinalHeaders = true;
    const isConnect = SUMMARY.method === 'CONNECT';
    this.streams.set(streamId, stream);
    this.activePeerStreams++;
    stream._apply(StreamEvent.RECEIVE_HEADERS);
    if (isEndStream) stream._apply(StreamEvent.RECEIVE_END_STREAM);
    publishStreamStarted(host.channelSlot!.channel.id, streamId, 'remote');
    try {
      host.options.onStream?.(stream, fields, isEndStream);
    } catch (thrown) {
      this.failStreamCallback(stream, thrown, 'onStream');
      return;
    }
    if (!stream.isClosed) host.onPeerStreamOpened(stream, isEndStream, isConnect);
    if (isEndStream && !stream.isClosed && this.checkContentLengthAtEnd(stream)) this.callOnEnd(stream);
  }

  private onHeadersForStream(
    stream: Http2Stream,
    fields: string[] | typeof HEADER_LIST_TOO_LARGE,
    isEndStream: boolean,
  ): void {
    const streamId = stream.id;
    if (receiveAnswer(stream._phase, FrameType.HEADERS) !== FrameAnswer.ACCEPT) {
      // Half-closed (remote): the peer ended the stream (RFC 9113 §5.1).
      this.resetStream(
        stream,
        new Http2StreamError(streamId, ErrorCode.STREAM_CLOSED, 'HEADERS after END_STREAM (RFC 9113 §5.1)'),
      );
      return;
    }
    if (fields === HEADER_LIST_TOO_LARGE) {
      this.resetStream(
        stream,
        new Http2StreamError(
          streamId,
          ErrorCode.REFUSED_STREAM,
          'header list larger than SETTINGS_MAX_HEADER_LIST_SIZE',
        ),
      );
      return;
    }
    const summary = SUMMARY;
    if (stream._hasFinalHeaders) {
      // Trailers: must end the stream and carry no pseudo-headers (RFC 9113 §8.1).
      const violation = isEndStream
        ? validateHeaderBlock(fields, HeaderBlockKind.TRAILERS, false, summary)
        : 'trailers without END_STREAM (RFC 9113 §8.1)';
      if (violation !== null) {
        this.resetStream(
          stream,
          new Http2StreamError(streamId, ErrorCode.PROTOCOL_ERROR, `malformed header block: ${violation}`),
        );
        return;
      }
      try {
        stream.handler.onTrailers?.(stream, fields);
      } catch (thrown) {
        this.failStreamCallback(stream, thrown, 'onTrailers');
      }
      if (!stream.isClosed) this.onRemoteEnd(stream);
      return;
    }
    const violation = validateHeaderBlock(fields, HeaderBlockKind.RESPONSE, false, summary);
    if (violation !== null) {
      this.resetStream(stream, malformedHeaderError(streamId, violation));
      return;
    }
    if (summary.status < 200) {
      if (isEndStream) {
        this.resetStream(
          stream,
          new Http2StreamError(
            streamId,
            ErrorCode.PROTOCOL_ERROR,
            'informational response with END_STREAM (RFC 9113 §8.1)',
          ),
        );
        return;
      }
      try {
        stream.handler.onInformational?.(stream, fields);
      } catch (thrown) {
        this.failStreamCallback(stream, thrown, 'onInformational');
      }
      return;
    }
    stream._hasFinalHeaders = true;
    // A response to HEAD, or 204/304, has no content whatever content-length says (RFC 9110 §8.6).
    stream._expectedContentLength =
      stream._isHead || summary.status === 204 || summary.status === 304
        ? summary.contentLength === CONTENT_LENGTH_ABSENT
          ? -1
          : 0
        : summary.contentLength;
    try {
      stream.handler.onResponse?.(stream, fields, isEndStream);
    } catch (thrown) {
      this.failStreamCallback(stream, thrown, 'onResponse');
    }
    if (isEndStream && !stream.isClosed) this.onRemoteEnd(stream);
  }

  /** The peer ended its side (END_STREAM). */
  private onRemoteEnd(stream: Http2Stream): void {
    if (!this.checkContentLengthAtEnd(stream)) return;
    if (stream.state === StreamState.OPEN) {
      stream._apply(StreamEvent.RECEIVE_END_STREAM);
      this.callOnEnd(stream);
    } else if (stream.state === StreamState.HALF_CLOSED_LOCAL) {
      // HALF_CLOSED_LOCAL → CLOSED: the stream closes once the application has heard of the end.
      this.callOnEnd(stream);
      if (!stream.isClosed) this.closeStream(stream, null, ClosedBy.REMOTE_END_STREAM);
    }
  }

  private callOnEnd(stream: Http2Stream): void {
    try {
      stream.handler.onEnd?.(stream);
    } catch (thrown) {
      this.failStreamCallback(stream, thrown, 'onEnd');
    }
  }

  /** content-length must equal the body received (RFC 9113 §8.1.1); resets and returns false otherwise. */
  private checkContentLengthAtEnd(stream: Http2Stream): boolean {
    const expected = stream._expectedContentLength;
    if (expected >= 0 && expected !== stream._receivedBodyBytes) {
      this.resetStream(
        stream,
        new Http2StreamError(
          stream.id,
          ErrorCode.PROTOCOL_ERROR,
          `body of ${stream._receivedBodyBytes} bytes but content-length ${expected} (RFC 9113 §8.1.1)`,
        ),
      );
      return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- what we send

  /**
   * Our END_STREAM is out (`_markEndSent` moved the state: OPEN → HALF_CLOSED_LOCAL,
   * HALF_CLOSED_REMOTE → CLOSING): a stream both sides have ended closes now.
   */
  onEndStreamSent(stream: Http2Stream): void {
    if (stream._thrown !== null) {
      // Its end callback threw.
      this.onStreamCallbackThrew(stream);
      return;
    }
    if (stream._phase === CLOSING) this.closeStream(stream, null, ClosedBy.END_STREAM);
  }

  /** A write callback or `onDrain` of `stream` threw (its `_thrown`). */
  onStreamCallbackThrew(stream: Http2Stream): void {
    const thrown = stream._thrown;
    stream._thrown = null;
    this.failStreamCallback(stream, thrown, 'a write callback or onDrain');
  }

  /**
   * An application callback of `stream` threw `thrown`: that stream alone is reset with
   * RST_STREAM(INTERNAL_ERROR) — its `onClose` gets the error, which carries what was thrown as
   * its cause — and the failure is logged (WARN, subject `http2-stream`). The connection and its
   * other streams go on, as in Netty, where an exception in one stream's handler fails that
   * stream. A callback that throws on a stream already closed is only logged.
   */
  private failStreamCallback(stream: Http2Stream, thrown: unknown, callback: string): void {
    const detail = describeThrown(thrown);
    const error = new Http2StreamError(
      stream.id,
      ErrorCode.INTERNAL_ERROR,
      `stream ${stream.id}: ${callback} threw: ${detail}`,
      { cause: thrown },
    );
    if (log.level >= LogLevel.WARN) log.log(LogLevel.WARN, 'http2-stream', error.message);
    this.resetStream(stream, error, false);
  }

  // ---------------------------------------------------------------- flow control

  /** Returns stream receive credit, batching WINDOW_UPDATE (RFC 9113 §6.9). */
  returnStreamCredit(stream: Http2Stream, size: number): void {
    if (stream.state === StreamState.HALF_CLOSED_REMOTE || stream.state === StreamState.CLOSED) {
      stream._inUnreturned = 0; // the peer sends no more on it
      return;
    }
    const increment = returnInboundCredit(stream, size, this.host.options.windowUpdateRatio);
    if (increment > 0) this.frames.windowUpdate(stream.id, increment);
  }

  /** Our INITIAL_WINDOW_SIZE took effect, `delta` from the last (RFC 9113 §6.9.2). */
  shiftReceiveWindows(delta: number): void {
    for (const stream of this.streams.values()) {
      shiftInbound(stream, delta);
      // Credit held back for batching under the old, larger target may now be due: with
      // nothing more arriving, nothing else would send it and the stream would stall.
      this.returnStreamCredit(stream, 0);
    }
  }

  /** The peer's INITIAL_WINDOW_SIZE changed by `delta`: every send window shifts, maybe below zero. */
  shiftSendWindows(delta: number): void {
    for (const stream of this.streams.values()) {
      if (!addOutbound(stream, delta)) {
        throw new Http2ConnectionError(
          ErrorCode.FLOW_CONTROL_ERROR,
          `INITIAL_WINDOW_SIZE change overflows stream ${stream.id}'s window`,
        );
      }
      if (delta > 0 && stream._hasFrameReady) this.host.outgoing.addDataStream(stream);
    }
  }

  // ---------------------------------------------------------------- closing

  /**
   * Sends RST_STREAM for `stream` and closes it with `error` (RFC 9113 §5.4.2). Resets the
   * peer caused count toward `maxLocalResetsPerInterval`.
   */
  resetStream(stream: Http2Stream, error: Http2StreamError, isPeerCaused = true): void {
    if (stream.isClosed) return;
    if (isPeerCaused) this.countLocalReset();
    if (stream.id !== 0) this.frames.rstStream(stream.id, error.errorCode);
    this.closeStream(stream, error, ClosedBy.RESET_SENT);
  }

  /** Closes a stream once: forgets it, fails its writes, tells the application. */
  closeStream(stream: Http2Stream, error: Http2StreamFailure | null, closedBy: ClosedBy): void {
    if (stream.isClosed) return;
    const host = this.host;
    stream._close();
    if (stream.id !== 0 && this.streams.delete(stream.id)) {
      this.closedStreams.add(stream.id, closedBy, stream._dataFramesSent, stream._dataBytesSent, stream._inAvailable);
      const slot = host.channelSlot;
      if (slot !== null && isWatchingStreams()) {
        const isReset = error instanceof Http2StreamError;
        publishStreamFinished(
          slot.channel.id,
          stream.id,
          error === null ? 'end-stream' : isReset ? 'reset' : 'connection-closed',
          isReset ? error.errorCode : null,
        );
      }
      if (stream.isLocal) this.activeLocalStreams--;
      // A peer stream the application still works on keeps its concurrency slot until the work
      // ends, so opening and resetting streams cannot start unbounded work (Rapid Reset).
      else if (stream._concurrencyHolds === 0) this.activePeerStreams--;
      else stream._isSlotHeldAfterClose = true;
    }
    host.outgoing.removeDataStream(stream);
    // Manual-mode credit the application still holds is released with the stream.
    if (stream._heldCredit > 0 && host.isConnectionWindowManual) host.returnConnectionCredit(stream._heldCredit);
    stream._heldCredit = 0;
    if (error !== null) stream._failWrites(error);
    try {
      stream.handler.onClose?.(stream, error);
    } catch (thrown) {
      stream._thrown ??= thrown;
    }
    if (stream._thrown !== null) {
      // Nothing left to reset: the stream is closed. Report it and go on.
      const thrown = stream._thrown;
      stream._thrown = null;
      if (log.level >= LogLevel.WARN) {
        log.log(
          LogLevel.WARN,
          'http2-stream',
          `stream ${stream.id}: a callback threw while it closed: ${describeThrown(thrown)}`,
        );
      }
    }
    host.onStreamClosed(stream);
    host.maybeFinishClosing();
  }

  /** Closes every open stream with `error` (a connection or transport failure). */
  failAll(error: SluiceError): void {
    for (const stream of this.streams.values()) {
      const failure =
        error instanceof Http2ConnectionError || error instanceof Http2StreamError
          ? error
          : asSluiceError(error, ChannelErrors.SHUT_DOWN);
      this.closeStream(stream, failure, ClosedBy.RESET_SENT);
    }
  }

  /** The peer's GOAWAY: our streams above `lastStreamId` were never processed and fail retryably. */
  refuseAbove(lastStreamId: number, announcedLastStreamId: number): void {
    for (const stream of this.streams.values()) {
      if (stream.isLocal && stream.id > lastStreamId) {
        // Never processed by the peer: safe to retry elsewhere.
        this.closeStream(
          stream,
          new Http2StreamError(
            stream.id,
            ErrorCode.REFUSED_STREAM,
            `not processed: the peer sent GOAWAY with last stream ${announcedLastStreamId}`,
            { retryable: true },
          ),
          ClosedBy.RESET_RECEIVED,
        );
      }
    }
  }

  /** The application finished with a closed stream whose slot it held. */
  releaseConcurrencySlot(stream: Http2Stream): void {
    if (!stream._isSlotHeldAfterClose) return;
    stream._isSlotHeldAfterClose = false;
    this.activePeerStreams--;
  }
}

/** `headers` without their `priority` fields and with one saying `rank` (RFC 9218 §5). */
function withPriorityField(headers: Http2Headers, rank: number): Http2Headers {
  const fields: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2)
    if (headers[i] !== 'priority') fields.push(headers[i], headers[i + 1]);
  fields.push('priority', priorityFieldValue(rank));
  return fields;
}
