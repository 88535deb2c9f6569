/**
 * What the runtime publishes on Node's `diagnostics_channel`: connections opening and closing,
 * whatever handlers they carry.
 *
 * @module
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Channel } from './channel.js';
import type { SluiceError } from './errors.js';

/**
 * ConnectionDiagnostics names the `diagnostics_channel` channels every sluice channel publishes
 * on, with no plugin installed — the way undici and Node's `http` publish theirs. A message is
 * built only while the channel `hasSubscribers`; otherwise the cost is that check.
 */
export const ConnectionDiagnostics = Object.freeze({
  /** {@link ConnectionOpenedMessage}: a channel completed its setup. */
  OPENED: 'sluice:connection:opened',
  /** {@link ConnectionClosedMessage}: a channel finished shutting down. */
  CLOSED: 'sluice:connection:closed',
} as const);

/** The message of `sluice:connection:opened`. */
export interface ConnectionOpenedMessage {
  /** The connection's channel. */
  readonly channel: Channel;
  /** The channel's id (as in logs). */
  readonly channelId: number;
}

/** The message of `sluice:connection:closed`. */
export interface ConnectionClosedMessage extends ConnectionOpenedMessage {
  /** Why it closed; null for a clean shutdown. */
  readonly error: SluiceError | null;
}

const opened = diagnosticsChannel.channel(ConnectionDiagnostics.OPENED);
const closed = diagnosticsChannel.channel(ConnectionDiagnostics.CLOSED);

/** @internal Publishes `sluice:connection:opened` for `channel` when anyone listens. */
export function publishConnectionOpened(channel: Channel): void {
  if (!opened.hasSubscribers) return;
  const message: ConnectionOpenedMessage = { channel, channelId: channel.id };
  opened.publish(message);
}

/** @internal Publishes `sluice:connection:closed` for `channel` when anyone listens. */
export function publishConnectionClosed(channel: Channel, error: SluiceError | null): void {
  if (!closed.hasSubscribers) return;
  const message: ConnectionClosedMessage = { channel, channelId: channel.id, error };
  closed.publish(message);
}
