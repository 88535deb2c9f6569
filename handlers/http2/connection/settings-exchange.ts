/**
 * The SETTINGS exchange of a connection (RFC 9113 §6.5): ours, applied when acknowledged, and
 * the peer's, applied and acknowledged at once.
 *
 * @module
 * @internal
 */
import { SluiceError } from '../../../lib/index.js';
import { emptyList, lazyPush, lazyRemoveFirst, type LazyList } from '../../../lib/field-layout.js';
import { Http2ApiErrors, Http2ConnectionError } from '../errors.js';
import { ErrorCode, SETTINGS_DEFAULTS, SettingId } from '../wire/constants.js';
import type { FrameDecoder } from '../wire/frame-decoder.js';
import type { Http2PeerSettings } from './connection-options.js';
import type { ResolvedHttp2Options } from './resolved-options.js';
import type { ConnectionTimers } from './connection-timers.js';
import type { ControlFrameWriter } from './control-frame-writer.js';
import { HpackSetting, type HeaderState } from './header-state.js';
import type { StreamLifecycle } from './stream-lifecycle.js';

/**
 * What the SETTINGS exchange needs from its connection.
 * @internal
 */
export interface SettingsHost {
  /** Our role: RFC 8441 §3's setting means something only from a server. */
  readonly role: 'client' | 'server';
  readonly options: ResolvedHttp2Options;
  /** The settings the peer announced; the exchange writes them. */
  readonly peerSettings: Http2PeerSettings;
  readonly frames: ControlFrameWriter;
  readonly decoder: FrameDecoder;
  readonly headers: HeaderState;
  readonly timers: ConnectionTimers;
  /** Loop time now. */
  now(): number;
  /** The streams, whose windows shift when an INITIAL_WINDOW_SIZE changes. */
  readonly lifecycle: Pick<StreamLifecycle, 'shiftReceiveWindows' | 'shiftSendWindows'>;
  /** The peer's SETTINGS were applied (the client may open waiting streams). */
  onPeerSettingsApplied(): void;
}

/**
 * SettingsExchange sends our SETTINGS and applies them once the peer acknowledges each (RFC 9113
 * §6.5.3), with a timeout for the ACK; it applies the peer's SETTINGS (flow-control windows,
 * frame size, HPACK table) and acknowledges them.
 *
 * @internal
 */
export class SettingsExchange {
  /**
   * Our SETTINGS_INITIAL_WINDOW_SIZE as the peer applies it: the window of streams we open or
   * accept, and what credit we return is batched against.
   */
  localInitialWindowSize: number = SETTINGS_DEFAULTS.INITIAL_WINDOW_SIZE;
  /** Our SETTINGS waiting for an ACK, oldest first (flat `[id, value, …]` lists). */
  private pending: LazyList<number[]> = emptyList();
  /** We announced SETTINGS_ENABLE_CONNECT_PROTOCOL = 1: it may never be 0 again (RFC 8441 §3). */
  private hasEnabledConnectProtocol = false;

  /** The exchange of one connection. */
  constructor(private readonly host: SettingsHost) {}

  // The connection's other parts, reached through the host: no pointer to each per connection.
  private get frames(): ControlFrameWriter {
    return this.host.frames;
  }

  private get decoder(): FrameDecoder {
    return this.host.decoder;
  }

  private get headers(): HeaderState {
    return this.host.headers;
  }

  private get timers(): ConnectionTimers {
    return this.host.timers;
  }

  /** Our SETTINGS wait for an ACK. */
  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Queues the SETTINGS a connection starts with (the client's preface goes ahead of them). */
  sendInitial(isClient: boolean): void {
    const options = this.host.options;
    const settings: number[] = [];
    if (isClient) settings.push(SettingId.ENABLE_PUSH, 0);
    else settings.push(SettingId.MAX_CONCURRENT_STREAMS, options.maxConcurrentStreams);
    if (options.initialStreamWindowSize !== SETTINGS_DEFAULTS.INITIAL_WINDOW_SIZE) {
      settings.push(SettingId.INITIAL_WINDOW_SIZE, options.initialStreamWindowSize);
    }
    if (options.maxFrameSize !== SETTINGS_DEFAULTS.MAX_FRAME_SIZE)
      settings.push(SettingId.MAX_FRAME_SIZE, options.maxFrameSize);
    if (options.headerTableSize !== SETTINGS_DEFAULTS.HEADER_TABLE_SIZE) {
      settings.push(SettingId.HEADER_TABLE_SIZE, options.headerTableSize);
    }
    settings.push(SettingId.MAX_HEADER_LIST_SIZE, options.maxHeaderListSize);
    // RFC 8441 §3: only a server's value has an effect, so a client never sends it.
    if (!isClient && options.enableConnectProtocol) settings.push(SettingId.ENABLE_CONNECT_PROTOCOL, 1);
    // RFC 9218 §2.1: in the first SETTINGS only; we neither send nor read RFC 7540 priorities.
    settings.push(SettingId.NO_RFC7540_PRIORITIES, 1);
    this.send(settings);
    // Streams we create use the window we announce; the peer may use a larger one as soon as it
    // reads it. A smaller one binds the peer only once it ACKs (RFC 9113 §6.5.3): until then the
    // old 65 535 stands, and applyLocal shrinks the windows by the difference.
    this.localInitialWindowSize = Math.max(options.initialStreamWindowSize, SETTINGS_DEFAULTS.INITIAL_WINDOW_SIZE);
  }

  /**
   * Queues SETTINGS (flat `[id, value, …]`); they apply when acknowledged. Throws
   * `HTTP2_INVALID_ARGUMENT` for SETTINGS_ENABLE_CONNECT_PROTOCOL = 0 after we sent 1 (RFC 8441
   * §3: a sender MUST NOT), before anything is queued.
   */
  send(settings: number[]): void {
    if (this.pending.length >= this.host.options.maxPendingSettings) {
      throw new SluiceError(Http2ApiErrors.CONNECTION_CLOSED, 'too many SETTINGS waiting for ACK');
    }
    let isEnablingConnectProtocol = false;
    for (let i = 0; i < settings.length; i += 2) {
      if (settings[i] !== SettingId.ENABLE_CONNECT_PROTOCOL) continue;
      if (settings[i + 1] === 0 && this.hasEnabledConnectProtocol) {
        throw new SluiceError(
          Http2ApiErrors.INVALID_ARGUMENT,
          'SETTINGS_ENABLE_CONNECT_PROTOCOL cannot go back to 0 once 1 was sent (RFC 8441 §3)',
        );
      }
      if (settings[i + 1] === 1) isEnablingConnectProtocol = true;
    }
    if (isEnablingConnectProtocol) this.hasEnabledConnectProtocol = true;
    this.frames.settings(settings);
    this.pending = lazyPush(this.pending, settings);
    // Until the ACK, accept frames as large as either value (the peer may not have applied it).
    for (let i = 0; i < settings.length; i += 2) {
      if (settings[i] === SettingId.MAX_FRAME_SIZE && settings[i + 1] > this.decoder.maxFrameSize)
        this.decoder.maxFrameSize = settings[i + 1]!;
    }
    this.timers.startSettingsWait(this.host.now());
  }

  /** The peer acknowledged our oldest SETTINGS (an ACK with nothing awaiting one is ignored). */
  onAck(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    const settings = pending[0];
    this.pending = lazyRemoveFirst(pending);
    this.applyLocal(settings);
    if (this.pending.length === 0) this.timers.stopSettingsWait();
  }

  /** The peer's SETTINGS (RFC 9113 §6.5): applied, then acknowledged. */
  onPeerSettings(settings: readonly number[]): void {
    this.applyPeer(settings);
    this.frames.settingsAck();
    this.onPeerApplied();
  }

  /**
   * The settings of an h2c upgrade's `HTTP2-Settings` field: applied as the peer's SETTINGS, and
   * not acknowledged — the 101 response acknowledges them (RFC 7540 §3.2.1).
   */
  onUpgradeSettings(settings: readonly number[]): void {
    this.applyPeer(settings);
    this.onPeerApplied();
  }

  private applyPeer(settings: readonly number[]): void {
    const host = this.host;
    if (settings.length / 2 > host.options.maxSettingsEntries) {
      throw new Http2ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `SETTINGS with more than ${host.options.maxSettingsEntries} entries`,
      );
    }
    const peer = host.peerSettings;
    for (let i = 0; i < settings.length; i += 2) {
      const value = settings[i + 1];
      switch (settings[i]) {
        case SettingId.HEADER_TABLE_SIZE:
          peer.headerTableSize = value;
          this.headers.apply(HpackSetting.PEER_TABLE_SIZE, value);
          break;
        case SettingId.ENABLE_PUSH:
          peer.enablePush = value === 1;
          break;
        case SettingId.MAX_CONCURRENT_STREAMS:
          peer.maxConcurrentStreams = value;
          break;
        case SettingId.INITIAL_WINDOW_SIZE: {
          // RFC 9113 §6.9.2: a new INITIAL_WINDOW_SIZE shifts every stream's send window.
          const delta = value - peer.initialWindowSize;
          peer.initialWindowSize = value;
          if (delta !== 0) host.lifecycle.shiftSendWindows(delta);
          break;
        }
        case SettingId.MAX_FRAME_SIZE:
          peer.maxFrameSize = value;
          this.frames.encoder.maxFrameSize = value;
          break;
        case SettingId.MAX_HEADER_LIST_SIZE:
          peer.maxHeaderListSize = value;
          break;
        case SettingId.ENABLE_CONNECT_PROTOCOL:
          // RFC 8441 §3: a server that sent 1 MUST NOT send 0 after it; a client relies on it to
          // open extended CONNECT streams. From a client the setting has no effect at all.
          if (host.role === 'client' && value === 0 && peer.enableConnectProtocol) {
            throw new Http2ConnectionError(
              ErrorCode.PROTOCOL_ERROR,
              'SETTINGS_ENABLE_CONNECT_PROTOCOL went from 1 to 0 (RFC 8441 §3)',
            );
          }
          peer.enableConnectProtocol = value === 1;
          break;
        case SettingId.NO_RFC7540_PRIORITIES:
          peer.noRfc7540Priorities = value === 1;
          break;
      }
    }
  }

  private onPeerApplied(): void {
    const host = this.host;
    host.onPeerSettingsApplied();
    host.options.onRemoteSettings?.(host.peerSettings);
  }

  /** Our SETTINGS were acknowledged: apply them to what we enforce (RFC 9113 §6.5.3). */
  private applyLocal(settings: readonly number[]): void {
    for (let i = 0; i < settings.length; i += 2) {
      const value = settings[i + 1];
      switch (settings[i]) {
        case SettingId.MAX_FRAME_SIZE:
          this.decoder.maxFrameSize = value;
          break;
        case SettingId.HEADER_TABLE_SIZE:
          this.headers.apply(HpackSetting.OWN_TABLE_SIZE, value);
          break;
        case SettingId.MAX_HEADER_LIST_SIZE:
          this.headers.apply(HpackSetting.OWN_HEADER_LIST_SIZE, value);
          break;
        case SettingId.INITIAL_WINDOW_SIZE: {
          // RFC 9113 §6.9.2: the peer shifts every stream window by the difference when it
          // applies the setting; do the same to our receive windows (they may go negative).
          const delta = value - this.localInitialWindowSize;
          this.localInitialWindowSize = value;
          if (delta !== 0) this.host.lifecycle.shiftReceiveWindows(delta);
          break;
        }
      }
    }
  }
}
