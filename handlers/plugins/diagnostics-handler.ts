/**
 * The diagnostics plugin: publishes connection, HTTP/2 frame and stream events on Node's
 * `diagnostics_channel`, in the `sluice:` namespace.
 *
 * @module
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { ChannelDirection, type ChannelSlot, type IoMessage } from '../../lib/index.js';
import { frameTypeName } from '../http2/wire/constants.js';
import { Http2Connection } from '../http2/connection/http2-connection.js';
import type { Http2StreamFinishedMessage, Http2StreamStartedMessage } from '../http2/connection/stream-diagnostics.js';
import { Http2WireTap, type TappedFrame, type WireTapListener } from './http2-wire-tap.js';
import type { FactoryPluginSpec } from './registry.js';
import { PassThroughHandler } from '../../lib/pass-through-handler.js';

/**
 * DiagnosticsChannelNames are the names of every `diagnostics_channel` channel sluice publishes
 * on: the connection and stream events the runtime publishes itself, and the frame events of the
 * diagnostics plugin. Subscribe with `diagnostics_channel.subscribe(name, fn)`.
 */
export const DiagnosticsChannelNames = Object.freeze({
  /** {@link ConnectionOpenedMessage}: a channel completed its setup (published by the runtime). */
  CONNECTION_OPENED: 'sluice:connection:opened',
  /** {@link ConnectionClosedMessage}: a channel finished shutting down (published by the runtime). */
  CONNECTION_CLOSED: 'sluice:connection:closed',
  /** {@link Http2FrameMessage}: a whole HTTP/2 frame arrived from the peer. */
  HTTP2_FRAME_RECEIVED: 'sluice:http2:frame:received',
  /** {@link Http2FrameMessage}: a whole HTTP/2 frame went to the socket. */
  HTTP2_FRAME_SENT: 'sluice:http2:frame:sent',
  /** {@link Http2StreamStartedMessage}: the first HEADERS of a new stream went by. */
  HTTP2_STREAM_STARTED: 'sluice:http2:stream:started',
  /** {@link Http2StreamFinishedMessage}: both sides ended a stream, or it was reset, or the connection closed. */
  HTTP2_STREAM_FINISHED: 'sluice:http2:stream:finished',
} as const);

export type { ConnectionClosedMessage, ConnectionOpenedMessage } from '../../lib/index.js';
export type { Http2StreamFinishedMessage, Http2StreamStartedMessage } from '../http2/connection/stream-diagnostics.js';

/** The message of `sluice:http2:frame:received` and `sluice:http2:frame:sent`. */
export interface Http2FrameMessage {
  /** The channel's id. */
  readonly channelId: number;
  /** The frame type code. */
  readonly type: number;
  /** The frame type's RFC name (`HEADERS`, …). */
  readonly typeName: string;
  /** The flags byte. */
  readonly flags: number;
  /** The stream identifier (0 for the connection). */
  readonly streamId: number;
  /** The payload length. */
  readonly length: number;
}

/** Options of a {@link DiagnosticsHandler}; defaults in {@link DIAGNOSTICS_DEFAULTS}. */
export interface DiagnosticsOptions {
  /**
   * Whether to follow HTTP/2 frames: `auto` when someone subscribes to an HTTP/2 channel at the
   * time the connection opens (a connection opened before that is not followed: frame
   * boundaries cannot be found mid-stream), `always`, or `never` (connection events only).
   */
  http2?: 'auto' | 'always' | 'never';
  /** The local side, to tell which direction carries the client preface; `auto` tells by the first byte. */
  role?: 'client' | 'server' | 'auto';
  /** Streams tracked at once for started/finished events; streams beyond it get no events. */
  maxTrackedStreams?: number;
}

/** Defaults of {@link DiagnosticsOptions}. */
export const DIAGNOSTICS_DEFAULTS: Readonly<Required<DiagnosticsOptions>> = Object.freeze({
  http2: 'auto',
  role: 'auto',
  maxTrackedStreams: 10_000,
});

/** The registry name of the diagnostics plugin. */
export const DIAGNOSTICS_PLUGIN_NAME = 'diagnostics';

const frameReceived = diagnosticsChannel.channel(DiagnosticsChannelNames.HTTP2_FRAME_RECEIVED);
const frameSent = diagnosticsChannel.channel(DiagnosticsChannelNames.HTTP2_FRAME_SENT);
const streamStarted = diagnosticsChannel.channel(DiagnosticsChannelNames.HTTP2_STREAM_STARTED);
const streamFinished = diagnosticsChannel.channel(DiagnosticsChannelNames.HTTP2_STREAM_FINISHED);

/** Stream state bits: which side has sent END_STREAM. */
const REMOTE_ENDED = 1;
const LOCAL_ENDED = 2;

/**
 * DiagnosticsHandler publishes the HTTP/2 frames of its connection on `diagnostics_channel` (see
 * {@link DiagnosticsChannelNames}), the way undici and Node's own `http` publish theirs, so tools
 * observe sluice without code changes. Connection events (`sluice:connection:*`) and the
 * stream events of sluice's own HTTP/2 connection are published by the runtime without this
 * plugin ({@link ConnectionDiagnostics}, {@link Http2StreamDiagnostics}); what the plugin adds
 * is every frame, both ways, and stream events for HTTP/2 that sluice does not terminate (a
 * relayed or tunnelled peer's).
 *
 * Frames come from following the bytes in both directions with an {@link Http2WireTap} — the
 * same technique as the frame logger — and streams from the HEADERS, END_STREAM and RST_STREAM
 * frames seen. Traffic is never changed or delayed ({@link PassThroughHandler}).
 *
 * Cost: each event is built and published only when its channel `hasSubscribers`; with
 * `http2: 'auto'` a connection that nobody watched when it opened is not followed at all.
 *
 * @example
 * ```ts
 * import diagnosticsChannel from 'node:diagnostics_channel';
 * diagnosticsChannel.subscribe('sluice:http2:stream:finished', (message) => {
 *   const { streamId, reason } = message as Http2StreamFinishedMessage;
 *   console.log(`stream ${streamId} finished: ${reason}`);
 * });
 * const pipeline = registry.pipeline(['socket', 'diagnostics', 'http2-server']);
 * ```
 */
export class DiagnosticsHandler extends PassThroughHandler {
  private readonly options: Readonly<Required<DiagnosticsOptions>>;
  private receivedTap: Http2WireTap | null = null;
  private sentTap: Http2WireTap | null = null;
  private channelId = 0;
  /** Open streams and which sides have ended them. */
  private readonly streams = new Map<number, number>();
  /** Whether the channel holds sluice's HTTP/2 connection (which publishes stream events); null until asked. */
  private hasOwnHttp2: boolean | null = null;
  /** Highest stream id started, by parity (RFC 9113 §5.1.1: ids only grow), so late frames start nothing. */
  private highestOddStreamId = 0;
  private highestEvenStreamId = 0;

  /** Creates the handler. */
  constructor(options: DiagnosticsOptions = {}) {
    super();
    this.options = Object.freeze({ ...DIAGNOSTICS_DEFAULTS, ...options });
  }

  /** Whether this connection's HTTP/2 frames are being followed. */
  get isFollowingHttp2(): boolean {
    return this.receivedTap !== null;
  }

  /** Decides whether to follow HTTP/2. */
  override installed(slot: ChannelSlot): void {
    super.installed(slot);
    const channel = slot.channel;
    this.channelId = channel.id;
    const mode = this.options.http2;
    const isWatched =
      frameReceived.hasSubscribers ||
      frameSent.hasSubscribers ||
      streamStarted.hasSubscribers ||
      streamFinished.hasSubscribers;
    if (mode === 'always' || (mode === 'auto' && isWatched)) {
      const role = this.options.role;
      this.receivedTap = new Http2WireTap(new DirectionListener(this, 'remote'), {
        carriesPreface: role === 'auto' ? 'auto' : role === 'server',
        excerptLimit: 0,
      });
      this.sentTap = new Http2WireTap(new DirectionListener(this, 'local'), {
        carriesPreface: role === 'auto' ? 'auto' : role === 'client',
        excerptLimit: 0,
      });
    }
  }

  /** Follows received bytes. */
  protected override observeRead(_slot: ChannelSlot, message: IoMessage): void {
    const tap = this.receivedTap;
    if (tap !== null && tap.isFollowing && message.length > 0) tap.feed(message.data.subarray(0, message.length));
  }

  /** Follows sent bytes. */
  protected override observeWrite(_slot: ChannelSlot, message: IoMessage): void {
    const tap = this.sentTap;
    if (tap !== null && tap.isFollowing && message.length > 0) tap.feed(message.data.subarray(0, message.length));
  }

  /** On the write side's shutdown (the later phase): finishes the streams still open. */
  protected override observeShutdown(_slot: ChannelSlot, direction: ChannelDirection): void {
    if (direction !== ChannelDirection.WRITE) return;
    for (const streamId of this.streams.keys()) this.publishFinished(streamId, 'connection-closed', null);
    this.streams.clear();
  }

  /**
   * Stream events come from the wire only for HTTP/2 that sluice's own connection does not
   * terminate (a tunnel, a peer's traffic relayed): an {@link Http2Connection} in the channel
   * publishes them itself, and twice would be wrong.
   */
  private isPublishingStreams(): boolean {
    if (this.hasOwnHttp2 === null) {
      const slot = this.slot;
      this.hasOwnHttp2 = slot !== null && slot.channel.slots().some((each) => each.handler instanceof Http2Connection);
    }
    return !this.hasOwnHttp2;
  }

  /** Forgets the channel. */
  override destroy(): void {
    super.destroy();
    this.streams.clear();
  }

  /** @internal */
  _onFrame(side: 'local' | 'remote', frame: TappedFrame): void {
    const target = side === 'remote' ? frameReceived : frameSent;
    if (!target.hasSubscribers) return;
    const message: Http2FrameMessage = {
      channelId: this.channelId,
      type: frame.type,
      typeName: frameTypeName(frame.type),
      flags: frame.flags,
      streamId: frame.streamId,
      length: frame.length,
    };
    target.publish(message);
  }

  /** @internal */
  _onHeaders(side: 'local' | 'remote', streamId: number, isEndStream: boolean): void {
    if (!this.streams.has(streamId)) {
      const isOdd = (streamId & 1) === 1;
      const highest = isOdd ? this.highestOddStreamId : this.highestEvenStreamId;
      if (streamId <= highest || this.streams.size >= this.options.maxTrackedStreams) return;
      if (isOdd) this.highestOddStreamId = streamId;
      else this.highestEvenStreamId = streamId;
      this.streams.set(streamId, 0);
      if (streamStarted.hasSubscribers && this.isPublishingStreams()) {
        const message: Http2StreamStartedMessage = { channelId: this.channelId, streamId, initiator: side };
        streamStarted.publish(message);
      }
    }
    if (isEndStream) this._onEndStream(side, streamId);
  }

  /** @internal */
  _onEndStream(side: 'local' | 'remote', streamId: number): void {
    const state = this.streams.get(streamId);
    if (state === undefined) return;
    const ended = state | (side === 'remote' ? REMOTE_ENDED : LOCAL_ENDED);
    if (ended === (REMOTE_ENDED | LOCAL_ENDED)) {
      this.streams.delete(streamId);
      this.publishFinished(streamId, 'end-stream', null);
    } else {
      this.streams.set(streamId, ended);
    }
  }

  /** @internal */
  _onRstStream(streamId: number, errorCode: number): void {
    if (!this.streams.delete(streamId)) return;
    this.publishFinished(streamId, 'reset', errorCode);
  }

  private publishFinished(
    streamId: number,
    reason: Http2StreamFinishedMessage['reason'],
    errorCode: number | null,
  ): void {
    if (!streamFinished.hasSubscribers || !this.isPublishingStreams()) return;
    const message: Http2StreamFinishedMessage = { channelId: this.channelId, streamId, reason, errorCode };
    streamFinished.publish(message);
  }
}

/** One direction's tap listener. */
class DirectionListener implements WireTapListener {
  constructor(
    private readonly handler: DiagnosticsHandler,
    private readonly side: 'local' | 'remote',
  ) {}

  onFrame(frame: TappedFrame): void {
    this.handler._onFrame(this.side, frame);
  }

  onHeaders(streamId: number, isEndStream: boolean): void {
    this.handler._onHeaders(this.side, streamId, isEndStream);
  }

  onDataEndStream(streamId: number): void {
    this.handler._onEndStream(this.side, streamId);
  }

  onRstStream(streamId: number, errorCode: number): void {
    this.handler._onRstStream(streamId, errorCode);
  }

  /** Not HTTP/2: stop following this direction; the connection is none of our business. */
  onDecodeError(): void {}
}

/** The registration of the diagnostics plugin (function form), as the registry's built-ins use it. */
export const DIAGNOSTICS_PLUGIN: FactoryPluginSpec<DiagnosticsOptions> = Object.freeze<
  FactoryPluginSpec<DiagnosticsOptions>
>({
  defaults: DIAGNOSTICS_DEFAULTS,
  validate: {
    http2: { type: 'string', oneOf: ['auto', 'always', 'never'] },
    role: { type: 'string', oneOf: ['client', 'server', 'auto'] },
    maxTrackedStreams: { type: 'integer', min: 0 },
  },
  factory: (options: Readonly<DiagnosticsOptions>) => new DiagnosticsHandler(options),
});
