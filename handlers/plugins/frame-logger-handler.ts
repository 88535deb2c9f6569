/**
 * The frame-logger plugin: an HTTP/2 wire tap that logs one line per frame in each direction.
 *
 * @module
 */
import { log, LogLevel, parseLogLevel, SluiceError, type ChannelSlot, type IoMessage } from '../../lib/index.js';
import { CONNECTION_PREFACE } from '../http2/wire/constants.js';
import { frameFlagNames, frameTypeName } from '../http2/wire/constants.js';
import { Http2WireTap, type TappedFrame, type WireTapListener } from './http2-wire-tap.js';
import type { FactoryPluginSpec } from './registry.js';
import { PassThroughHandler } from '../../lib/pass-through-handler.js';
import { checkOptionalOptions } from '../../lib/argument-checks.js';
import { PluginErrors } from './plugin-errors.js';

/** Where frame lines go instead of the logger: called once per line, synchronously. */
export type FrameLogSink = (line: string) => void;

/** Options of a {@link FrameLoggerHandler}; defaults in {@link FRAME_LOGGER_DEFAULTS}. */
export interface FrameLoggerOptions {
  /**
   * The local side of the connection. A server receives the client preface, a client sends it;
   * `'auto'` tells by the first byte of each direction.
   */
  role?: 'client' | 'server' | 'auto';
  /** At most this many payload bytes of each frame are shown in hex; 0 shows none. */
  maxPayloadBytes?: number;
  /** The log level of frame lines (a level name: `trace`, `debug`, `info`, …). */
  level?: string;
  /** The log subject of frame lines. */
  subject?: string;
  /** Receives the lines instead of the process logger. */
  sink?: FrameLogSink;
}

/** Defaults of {@link FrameLoggerOptions}. */
export const FRAME_LOGGER_DEFAULTS = Object.freeze({
  /** Tell each direction's role by its first byte. */
  role: 'auto',
  /** 32 payload bytes in hex per frame. */
  maxPayloadBytes: 32,
  /** Per-frame detail is `trace` in sluice's logging levels. */
  level: 'trace',
  /** The subject of frame lines. */
  subject: 'http2-frames',
} as const);

/** The registry name of the frame-logger plugin. */
export const FRAME_LOGGER_PLUGIN_NAME = 'frame-logger';

/**
 * FrameLoggerHandler sits between the socket (or TLS) slot and the HTTP/2 handler and logs every
 * frame going by, one line each:
 *
 * ```text
 * channel 3 recv HEADERS flags=END_STREAM|END_HEADERS stream=1 length=13 payload=828684418a08…
 * channel 3 send SETTINGS flags=ACK stream=0 length=0
 * ```
 *
 * It runs one {@link Http2WireTap} (an HTTP/2 `FrameDecoder` in step with a frame splitter) per
 * direction, so frames split anywhere across messages are logged once, whole. It never changes
 * or delays traffic ({@link PassThroughHandler}); bytes that do not decode as HTTP/2 produce one
 * `decode error` line and end logging for that direction, never the connection.
 *
 * Lines go to the process logger (subject `http2-frames`, level `trace` by default; nothing is
 * formatted when that level is off) or to `sink`.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const test = new TestingChannel([new FrameLoggerHandler({ role: 'server', sink: (line) => lines.push(line) })]);
 * test.pushRead(clientPrefaceAndSettings);
 * // lines: ['channel 1 recv PREFACE length=24', 'channel 1 recv SETTINGS flags=- stream=0 length=0']
 * ```
 */
export class FrameLoggerHandler extends PassThroughHandler {
  private readonly sink: FrameLogSink | null;
  private readonly level: LogLevel;
  private readonly subject: string;
  private readonly maxPayloadBytes: number;
  private readonly receivedTap: Http2WireTap;
  private readonly sentTap: Http2WireTap;
  private channelId = 0;

  /** Creates the logger; throws a `RangeError` for an unknown level name. */
  constructor(options: FrameLoggerOptions = {}) {
    super();
    checkOptionalOptions(options, 'new FrameLoggerHandler', PluginErrors.INVALID_OPTIONS);
    const settings = { ...FRAME_LOGGER_DEFAULTS, ...options };
    const level = parseLogLevel(settings.level);
    if (level === undefined) throw new RangeError(`unknown log level '${settings.level}'`);
    this.level = level;
    this.sink = options.sink ?? null;
    this.subject = settings.subject;
    this.maxPayloadBytes = Math.max(0, Math.floor(settings.maxPayloadBytes));
    const role = settings.role;
    this.receivedTap = new Http2WireTap(new FrameLineWriter(this, 'recv'), {
      carriesPreface: role === 'auto' ? 'auto' : role === 'server',
      excerptLimit: this.maxPayloadBytes,
    });
    this.sentTap = new Http2WireTap(new FrameLineWriter(this, 'send'), {
      carriesPreface: role === 'auto' ? 'auto' : role === 'client',
      excerptLimit: this.maxPayloadBytes,
    });
  }

  /** Remembers the channel id for the lines. */
  override installed(slot: ChannelSlot): void {
    super.installed(slot);
    this.channelId = slot.channel.id;
  }

  /** @internal Whether a line would be printed now (so nothing is formatted otherwise). */
  _isEnabled(): boolean {
    return this.sink !== null || log.level >= this.level;
  }

  /** @internal Writes one line. */
  _write(line: string): void {
    const full = `channel ${this.channelId} ${line}`;
    if (this.sink !== null) this.sink(full);
    else log.log(this.level, this.subject, full);
  }

  /** @internal */
  _formatFrame(direction: string, frame: TappedFrame): string {
    let line = `${direction} ${frameTypeName(frame.type)} flags=${frameFlagNames(frame.type, frame.flags)} stream=${frame.streamId} length=${frame.length}`;
    if (frame.excerptLength > 0) {
      const hex = Buffer.from(frame.excerpt.buffer, frame.excerpt.byteOffset, frame.excerptLength).toString('hex');
      line += ` payload=${hex}${frame.length > frame.excerptLength ? '…' : ''}`;
    }
    return line;
  }

  /** Follows received bytes; the message is not touched. */
  protected override observeRead(_slot: ChannelSlot, message: IoMessage): void {
    if (this.receivedTap.isFollowing && message.length > 0)
      this.receivedTap.feed(message.data.subarray(0, message.length));
  }

  /** Follows sent bytes; the message is not touched. */
  protected override observeWrite(_slot: ChannelSlot, message: IoMessage): void {
    if (this.sentTap.isFollowing && message.length > 0) this.sentTap.feed(message.data.subarray(0, message.length));
  }
}

/** One direction's tap listener: turns tapped frames into lines. */
class FrameLineWriter implements WireTapListener {
  constructor(
    private readonly logger: FrameLoggerHandler,
    private readonly direction: 'recv' | 'send',
  ) {}

  onPreface(): void {
    if (this.logger._isEnabled()) this.logger._write(`${this.direction} PREFACE length=${CONNECTION_PREFACE.length}`);
  }

  onFrame(frame: TappedFrame): void {
    if (this.logger._isEnabled()) this.logger._write(this.logger._formatFrame(this.direction, frame));
  }

  onDecodeError(error: Error): void {
    if (!this.logger._isEnabled()) return;
    const code = error instanceof SluiceError ? ` (${error.code})` : '';
    this.logger._write(
      `${this.direction} decode error${code}: ${error.message}; no more frames logged in this direction`,
    );
  }
}

/** The registration of the frame-logger plugin (function form), as the registry's built-ins use it. */
export const FRAME_LOGGER_PLUGIN: FactoryPluginSpec<FrameLoggerOptions> = Object.freeze<
  FactoryPluginSpec<FrameLoggerOptions>
>({
  defaults: FRAME_LOGGER_DEFAULTS,
  validate: {
    role: { type: 'string', oneOf: ['client', 'server', 'auto'] },
    maxPayloadBytes: { type: 'integer', min: 0, max: 16_384 },
    level: {
      type: 'string',
      check: (value: string) =>
        parseLogLevel(value) === undefined ? `is not a log level name: '${value}'` : undefined,
    },
    subject: { type: 'string' },
    sink: { type: 'function' },
  },
  factory: (options: Readonly<FrameLoggerOptions>) => new FrameLoggerHandler(options),
});
