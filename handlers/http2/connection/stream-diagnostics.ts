/**
 * What an HTTP/2 connection publishes on Node's `diagnostics_channel` about its streams.
 *
 * @module
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/**
 * Http2StreamDiagnostics names the `diagnostics_channel` channels every sluice HTTP/2
 * connection publishes on, with no plugin installed (the `diagnostics` plugin adds frame events).
 * A message is built only while the channel `hasSubscribers`.
 */
export const Http2StreamDiagnostics = Object.freeze({
  /** {@link Http2StreamStartedMessage}: a stream opened (our HEADERS went out, or the peer's arrived). */
  STARTED: 'sluice:http2:stream:started',
  /** {@link Http2StreamFinishedMessage}: a stream closed: both sides ended it, it was reset, or the connection closed. */
  FINISHED: 'sluice:http2:stream:finished',
} as const);

/** The message of `sluice:http2:stream:started`. */
export interface Http2StreamStartedMessage {
  /** The channel's id. */
  readonly channelId: number;
  /** The stream identifier. */
  readonly streamId: number;
  /** Who opened it: this endpoint (`local`) or the peer (`remote`). */
  readonly initiator: 'local' | 'remote';
}

/** The message of `sluice:http2:stream:finished`. */
export interface Http2StreamFinishedMessage {
  /** The channel's id. */
  readonly channelId: number;
  /** The stream identifier. */
  readonly streamId: number;
  /** `end-stream` (both sides sent END_STREAM), `reset` (RST_STREAM either way) or `connection-closed`. */
  readonly reason: 'end-stream' | 'reset' | 'connection-closed';
  /** The RST_STREAM error code for `reset`; null otherwise. */
  readonly errorCode: number | null;
}

const started = diagnosticsChannel.channel(Http2StreamDiagnostics.STARTED);
const finished = diagnosticsChannel.channel(Http2StreamDiagnostics.FINISHED);

/** @internal Whether anyone listens to stream events (checked before building a message). */
export function isWatchingStreams(): boolean {
  return started.hasSubscribers || finished.hasSubscribers;
}

/** @internal Publishes `sluice:http2:stream:started` when anyone listens. */
export function publishStreamStarted(channelId: number, streamId: number, initiator: 'local' | 'remote'): void {
  if (!started.hasSubscribers) return;
  const message: Http2StreamStartedMessage = { channelId, streamId, initiator };
  started.publish(message);
}

/** @internal Publishes `sluice:http2:stream:finished` when anyone listens. */
export function publishStreamFinished(
  channelId: number,
  streamId: number,
  reason: Http2StreamFinishedMessage['reason'],
  errorCode: number | null,
): void {
  if (!finished.hasSubscribers) return;
  const message: Http2StreamFinishedMessage = { channelId, streamId, reason, errorCode };
  finished.publish(message);
}
