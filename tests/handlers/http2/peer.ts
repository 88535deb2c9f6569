/**
 * Test helpers for the HTTP/2 connection tests: the test plays the peer.
 *
 * - {@link PeerWriter} crafts frames as Buffers with the project's FrameEncoder and HpackEncoder.
 * - {@link PeerReader} parses what the connection wrote into a list of {@link WrittenFrame}s
 *   (raw frame headers, then the FrameDecoder with a recording listener and an HpackDecoder for
 *   header blocks), remembering which written message each frame began in.
 * - {@link Harness} ties a connection, a TestingChannel, a writer and a reader together.
 */
import { expect } from 'chai';
import { rawFrame } from '../../support/raw-frames.js';
import { TestingChannel, type TestingChannelOptions } from '../../../lib/index.js';
import {
  CONNECTION_PREFACE,
  ErrorCode,
  FRAME_HEADER_LENGTH,
  FrameFlag,
  FrameType,
  MAX_MAX_FRAME_SIZE,
} from '../../../handlers/http2/wire/constants.js';
import type { Http2ConnectionOptions, Http2Headers } from '../../../handlers/http2/connection/connection-options.js';
import { FrameDecoder, type FrameListener } from '../../../handlers/http2/wire/frame-decoder.js';
import { FrameEncoder, type PriorityFields } from '../../../handlers/http2/wire/frame-encoder.js';
import { HEADER_LIST_TOO_LARGE, HpackDecoder } from '../../../handlers/http2/wire/hpack-decoder.js';
import { HpackEncoder } from '../../../handlers/http2/wire/hpack-encoder.js';
import {
  Http2ClientConnection,
  type Http2RequestOptions,
} from '../../../handlers/http2/connection/client-connection.js';
import type { Http2Connection } from '../../../handlers/http2/connection/http2-connection.js';
import type { Http2StreamError } from '../../../handlers/http2/errors.js';
import { Http2ServerConnection } from '../../../handlers/http2/connection/server-connection.js';
import type {
  Http2Stream,
  Http2StreamFailure,
  Http2StreamHandler,
} from '../../../handlers/http2/connection/http2-stream.js';

// ------------------------------------------------------------------------------ building frames

/** Options of a crafted HEADERS block. */
export interface HeadersFrameOptions {
  endStream?: boolean;
  /** Split the block into a HEADERS frame and CONTINUATION frames of at most this many bytes. */
  fragmentSize?: number;
  /** Leave END_HEADERS off the last frame (a block the peer never finishes). */
  omitEndHeaders?: boolean;
  priority?: PriorityFields;
  padLength?: number;
}

/** Crafts the frames a peer sends, with its own HPACK context. */
export class PeerWriter {
  /** Frames of any size up to 2^24−1, so tests can also send oversized ones. */
  readonly encoder = new FrameEncoder(MAX_MAX_FRAME_SIZE);
  readonly hpack = new HpackEncoder();

  /** The client connection preface (RFC 9113 §3.4). */
  preface(): Buffer {
    return Buffer.from(CONNECTION_PREFACE);
  }

  /** SETTINGS with `[id, value]` pairs. */
  settings(...pairs: [number, number][]): Buffer {
    return this.build(FRAME_HEADER_LENGTH + 6 * pairs.length, (target) => this.encoder.writeSettings(target, 0, pairs));
  }

  settingsAck(): Buffer {
    return this.build(FRAME_HEADER_LENGTH, (target) => this.encoder.writeSettingsAck(target, 0));
  }

  /** HPACK-encodes `headers` with the peer's context (a copy). */
  headerBlock(headers: Http2Headers): Buffer {
    return Buffer.from(this.hpack.encode(headers));
  }

  /** HEADERS (+ CONTINUATION) carrying `headers`, or a raw `block`. */
  headers(streamId: number, headers: Http2Headers | Buffer, options: HeadersFrameOptions = {}): Buffer {
    const block = Buffer.isBuffer(headers) ? headers : this.headerBlock(headers);
    const fragmentSize = Math.max(1, options.fragmentSize ?? (block.length === 0 ? 1 : block.length));
    const frames: Buffer[] = [];
    let offset = 0;
    do {
      const length = Math.min(fragmentSize, block.length - offset);
      const isLast = offset + length >= block.length;
      const isEndHeaders = isLast && options.omitEndHeaders !== true;
      const first = offset === 0;
      const at = offset;
      frames.push(
        this.build(FRAME_HEADER_LENGTH + length + 6 + 256, (target) =>
          first
            ? this.encoder.writeHeaders(
                target,
                0,
                streamId,
                block,
                at,
                length,
                options.endStream ?? false,
                isEndHeaders,
                options.priority,
                options.padLength,
              )
            : this.encoder.writeContinuation(target, 0, streamId, block, at, length, isEndHeaders),
        ),
      );
      offset += length;
    } while (offset < block.length);
    return Buffer.concat(frames);
  }

  /** CONTINUATION with a raw fragment. */
  continuation(streamId: number, fragment: Buffer, isEndHeaders: boolean): Buffer {
    return this.build(FRAME_HEADER_LENGTH + fragment.length, (target) =>
      this.encoder.writeContinuation(target, 0, streamId, fragment, 0, fragment.length, isEndHeaders),
    );
  }

  /** DATA with `payload` (bytes, text, or that many 'x' bytes). */
  data(
    streamId: number,
    payload: Uint8Array | string | number,
    options: { endStream?: boolean; padLength?: number } = {},
  ): Buffer {
    const bytes =
      typeof payload === 'number'
        ? Buffer.alloc(payload, 0x78)
        : typeof payload === 'string'
          ? Buffer.from(payload)
          : payload;
    return this.build(FRAME_HEADER_LENGTH + bytes.length + 256, (target) =>
      this.encoder.writeData(
        target,
        0,
        streamId,
        bytes,
        0,
        bytes.length,
        options.endStream ?? false,
        options.padLength,
      ),
    );
  }

  rstStream(streamId: number, errorCode: number): Buffer {
    return this.build(FRAME_HEADER_LENGTH + 4, (target) => this.encoder.writeRstStream(target, 0, streamId, errorCode));
  }

  /** PING with opaque data `high`, `low` (two 32-bit halves). */
  ping(high: number, low: number, isAck = false): Buffer {
    return this.build(FRAME_HEADER_LENGTH + 8, (target) => this.encoder.writePing(target, 0, high, low, isAck));
  }

  goaway(lastStreamId: number, errorCode: number, debug = ''): Buffer {
    const debugData = Buffer.from(debug);
    return this.build(FRAME_HEADER_LENGTH + 8 + debugData.length, (target) =>
      this.encoder.writeGoaway(target, 0, lastStreamId, errorCode, debugData),
    );
  }

  windowUpdate(streamId: number, increment: number): Buffer {
    return this.build(FRAME_HEADER_LENGTH + 4, (target) =>
      this.encoder.writeWindowUpdate(target, 0, streamId, increment),
    );
  }

  priority(streamId: number, dependency: number, weight = 16): Buffer {
    return this.build(FRAME_HEADER_LENGTH + 5, (target) =>
      this.encoder.writePriority(target, 0, streamId, dependency, weight, false),
    );
  }

  /** PRIORITY_UPDATE (RFC 9218 §7.1) giving `prioritizedStreamId` the priority field `value`. */
  priorityUpdate(prioritizedStreamId: number, value: string): Buffer {
    return this.build(FRAME_HEADER_LENGTH + 4 + value.length, (target) =>
      this.encoder.writePriorityUpdate(target, 0, prioritizedStreamId, value),
    );
  }

  pushPromise(streamId: number, promisedStreamId: number, headers: Http2Headers): Buffer {
    const block = this.headerBlock(headers);
    return this.build(FRAME_HEADER_LENGTH + 4 + block.length, (target) =>
      this.encoder.writePushPromise(target, 0, streamId, promisedStreamId, block, 0, block.length, true),
    );
  }

  /** Any frame, byte for byte (for frames the encoder refuses to build). */
  raw(type: number, flags: number, streamId: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
    return rawFrame(type, flags, streamId, payload);
  }

  private build(capacity: number, write: (target: Buffer) => number): Buffer {
    const target = Buffer.alloc(capacity);
    return target.subarray(0, write(target));
  }
}

// ------------------------------------------------------------------------------ reading frames

/** One frame the connection wrote, with its decoded payload fields. */
export interface WrittenFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  /** Payload length. */
  readonly length: number;
  /** Index (since the reader was created) of the written message the frame began in. */
  readonly message: number;
  /** The frame continued into a later message. */
  readonly isSplit: boolean;
  readonly endStream: boolean;
  readonly endHeaders: boolean;
  readonly ack: boolean;
  /** HEADERS: the decoded list, set on the frame that started the block once it completed. */
  headers?: string[];
  /** HEADERS: the raw header block (all fragments). */
  block?: Buffer;
  /** DATA: the payload. */
  data?: Buffer;
  /** RST_STREAM, GOAWAY. */
  errorCode?: number;
  /** GOAWAY. */
  lastStreamId?: number;
  debug?: string;
  /** SETTINGS: flat `[id, value, …]`. */
  settings?: number[];
  /** WINDOW_UPDATE. */
  increment?: number;
  /** PING: the opaque data. */
  opaque?: [number, number];
  /** A stream error the decoder found in this frame. */
  streamError?: Http2StreamError;
  /** PRIORITY_UPDATE: the stream it prioritizes and the field value. */
  priorityUpdate?: { streamId: number; value: string };
}

interface MutableFrame extends WrittenFrame {
  isSplit: boolean;
}

/**
 * Parses the bytes a connection wrote, message by message. The decoder runs with the opposite
 * role, so it checks the preface (client connection) and the first SETTINGS too.
 */
export class PeerReader implements FrameListener {
  readonly frames: WrittenFrame[] = [];
  readonly hpack = new HpackDecoder({ maxHeaderListSize: 16 * 1024 * 1024 });
  /** True once the client preface was seen (client connections). */
  sawPreface = false;
  private readonly decoder: FrameDecoder;
  private pending: Buffer = Buffer.alloc(0);
  private pendingStartMessage = 0;
  private messageCount = 0;
  private expectsPreface: boolean;
  private current: MutableFrame | null = null;
  private blockOwner: MutableFrame | null = null;
  private dataPieces: Buffer[] = [];

  constructor(connectionRole: 'client' | 'server') {
    this.expectsPreface = connectionRole === 'client';
    this.decoder = new FrameDecoder(this, {
      role: connectionRole === 'client' ? 'server' : 'client',
      maxFrameSize: MAX_MAX_FRAME_SIZE,
      maxHeaderBlockSize: 64 * 1024 * 1024,
      maxContinuationFrames: 100_000,
    });
  }

  /** Parses `messages` (one Buffer per written message) and returns the frames that completed. */
  read(messages: readonly Buffer[]): WrittenFrame[] {
    const out: WrittenFrame[] = [];
    for (const message of messages) {
      const index = this.messageCount++;
      if (this.pending.length === 0) this.pendingStartMessage = index;
      this.pending = this.pending.length === 0 ? message : Buffer.concat([this.pending, message]);
      this.parse(index, out);
    }
    return out;
  }

  private parse(messageIndex: number, out: WrittenFrame[]): void {
    if (this.expectsPreface) {
      if (this.pending.length < CONNECTION_PREFACE.length) return;
      expect(
        Buffer.from(this.pending.subarray(0, CONNECTION_PREFACE.length)).equals(Buffer.from(CONNECTION_PREFACE)),
      ).to.equal(true, 'client connection preface');
      this.decoder.decode(this.pending.subarray(0, CONNECTION_PREFACE.length));
      this.pending = this.pending.subarray(CONNECTION_PREFACE.length);
      this.expectsPreface = false;
      this.sawPreface = true;
      this.pendingStartMessage = messageIndex;
    }
    while (this.pending.length >= FRAME_HEADER_LENGTH) {
      const length = this.pending.readUIntBE(0, 3);
      if (this.pending.length < FRAME_HEADER_LENGTH + length) break;
      const bytes = this.pending.subarray(0, FRAME_HEADER_LENGTH + length);
      const type = bytes[3];
      const flags = bytes[4];
      const startedIn = this.pendingStartMessage;
      const frame: MutableFrame = {
        type,
        flags,
        streamId: bytes.readUInt32BE(5) & 0x7fff_ffff,
        length,
        message: startedIn,
        isSplit: startedIn !== messageIndex,
        endStream: (type === FrameType.DATA || type === FrameType.HEADERS) && (flags & FrameFlag.END_STREAM) !== 0,
        endHeaders:
          (type === FrameType.HEADERS || type === FrameType.CONTINUATION) && (flags & FrameFlag.END_HEADERS) !== 0,
        ack: (type === FrameType.SETTINGS || type === FrameType.PING) && (flags & FrameFlag.ACK) !== 0,
      };
      this.current = frame;
      if (type === FrameType.HEADERS) this.blockOwner = frame;
      this.decoder.decode(bytes);
      this.current = null;
      this.frames.push(frame);
      out.push(frame);
      this.pending = this.pending.subarray(FRAME_HEADER_LENGTH + length);
      this.pendingStartMessage = messageIndex;
    }
    if (this.pending.length > 0) this.pending = Buffer.from(this.pending);
  }

  // FrameListener ------------------------------------------------------------------------------

  onData(_streamId: number, data: Uint8Array, start: number, end: number, _flow: number, isFrameEnd: boolean): void {
    this.dataPieces.push(Buffer.from(data.subarray(start, end)));
    if (isFrameEnd && this.current !== null) {
      this.current.data = Buffer.concat(this.dataPieces);
      this.dataPieces = [];
    }
  }

  onHeaders(_streamId: number, block: Uint8Array, start: number, end: number): void {
    const owner = this.blockOwner ?? this.current;
    if (owner === null) return;
    owner.block = Buffer.from(block.subarray(start, end));
    const fields = this.hpack.decode(block.subarray(start, end));
    owner.headers = fields === HEADER_LIST_TOO_LARGE ? [] : fields;
    this.blockOwner = null;
  }

  onPriority(): void {}

  onRstStream(_streamId: number, errorCode: number): void {
    if (this.current !== null) this.current.errorCode = errorCode;
  }

  onSettings(settings: readonly number[]): void {
    if (this.current !== null) this.current.settings = [...settings];
  }

  onPushPromise(): void {}

  onPing(high: number, low: number): void {
    if (this.current !== null) this.current.opaque = [high, low];
  }

  onGoaway(lastStreamId: number, errorCode: number, debugData: Uint8Array, start: number, end: number): void {
    if (this.current === null) return;
    this.current.lastStreamId = lastStreamId;
    this.current.errorCode = errorCode;
    this.current.debug = Buffer.from(debugData.subarray(start, end)).toString('utf8');
  }

  onWindowUpdate(_streamId: number, increment: number): void {
    if (this.current !== null) this.current.increment = increment;
  }

  onStreamError(error: Http2StreamError): void {
    if (this.current !== null) this.current.streamError = error;
  }

  onPriorityUpdate(streamId: number, value: Uint8Array, start: number, end: number): void {
    if (this.current !== null)
      this.current.priorityUpdate = { streamId, value: Buffer.from(value.subarray(start, end)).toString('latin1') };
  }
}

// ------------------------------------------------------------------------------ frame queries

export const typeName = (type: number): string =>
  Object.entries(FrameType).find(([, value]) => value === type)?.[0] ?? `0x${type.toString(16)}`;

/** A compact description of frames for failure messages and sequence assertions: `HEADERS:1`, `PING+ACK:0`… */
export function frameNames(frames: readonly WrittenFrame[]): string[] {
  return frames.map((frame) => `${typeName(frame.type)}${frame.ack ? '+ACK' : ''}:${frame.streamId}`);
}

export function ofType(frames: readonly WrittenFrame[], type: number): WrittenFrame[] {
  return frames.filter((frame) => frame.type === type);
}

/** The only GOAWAY among `frames` (fails the test otherwise). */
export function theGoaway(frames: readonly WrittenFrame[]): WrittenFrame {
  const goaways = ofType(frames, FrameType.GOAWAY);
  expect(goaways, `one GOAWAY in ${frameNames(frames).join(' ')}`).to.have.length(1);
  return goaways[0];
}

/** Asserts `frames` hold exactly one GOAWAY with `errorCode`. */
export function expectGoaway(frames: readonly WrittenFrame[], errorCode: number, lastStreamId?: number): WrittenFrame {
  const goaway = theGoaway(frames);
  expect(goaway.errorCode, `GOAWAY code (${goaway.debug ?? ''})`).to.equal(errorCode);
  if (lastStreamId !== undefined) expect(goaway.lastStreamId, 'GOAWAY last stream id').to.equal(lastStreamId);
  return goaway;
}

/** Asserts `frames` hold exactly one RST_STREAM, on `streamId` with `errorCode`, and no GOAWAY. */
export function expectRst(frames: readonly WrittenFrame[], streamId: number, errorCode: number): void {
  const resets = ofType(frames, FrameType.RST_STREAM);
  expect(
    resets.map((frame) => [frame.streamId, frame.errorCode]),
    `RST_STREAM in ${frameNames(frames).join(' ')}`,
  ).to.deep.equal([[streamId, errorCode]]);
  expect(ofType(frames, FrameType.GOAWAY), 'no GOAWAY').to.have.length(0);
}

/** Asserts no RST_STREAM and no GOAWAY among `frames`. */
export function expectNoErrors(frames: readonly WrittenFrame[]): void {
  const errors = frames.filter((frame) => frame.type === FrameType.RST_STREAM || frame.type === FrameType.GOAWAY);
  expect(frameNames(errors), 'no RST_STREAM or GOAWAY').to.deep.equal([]);
}

/** The DATA payloads written on `streamId`, concatenated. */
export function bodyOf(frames: readonly WrittenFrame[], streamId: number): Buffer {
  return Buffer.concat(
    frames.filter((frame) => frame.type === FrameType.DATA && frame.streamId === streamId).map((frame) => frame.data!),
  );
}

// ------------------------------------------------------------------------------ the harness

/** A request the peer (client) sends. */
export const GET: Http2Headers = [':method', 'GET', ':scheme', 'http', ':authority', 'example.test', ':path', '/'];
export const POST: Http2Headers = [
  ':method',
  'POST',
  ':scheme',
  'http',
  ':authority',
  'example.test',
  ':path',
  '/upload',
];
export const OK: Http2Headers = [':status', '200'];
/** A WebSocket extended CONNECT (RFC 8441 §5.1's example, on http), without its regular fields. */
export const WEBSOCKET_CONNECT: Http2Headers = [
  ':method',
  'CONNECT',
  ':protocol',
  'websocket',
  ':scheme',
  'http',
  ':path',
  '/chat',
  ':authority',
  'example.test',
];

/** What happened on one stream, in order. */
export interface StreamEvent {
  readonly kind: 'response' | 'informational' | 'data' | 'trailers' | 'end' | 'drain' | 'close';
  readonly headers?: Http2Headers;
  readonly data?: Buffer;
  readonly isEndStream?: boolean;
  readonly error?: Http2StreamFailure | null;
}

/** A stream handler that records every callback. */
export class StreamRecorder implements Http2StreamHandler {
  readonly events: StreamEvent[] = [];
  stream: Http2Stream | null = null;

  onResponse(stream: Http2Stream, headers: Http2Headers, isEndStream: boolean): void {
    this.stream = stream;
    this.events.push({ kind: 'response', headers, isEndStream });
  }
  onInformational(_stream: Http2Stream, headers: Http2Headers): void {
    this.events.push({ kind: 'informational', headers });
  }
  onData(_stream: Http2Stream, data: Uint8Array, start: number, end: number): void {
    this.events.push({ kind: 'data', data: Buffer.from(data.subarray(start, end)) });
  }
  onTrailers(_stream: Http2Stream, headers: Http2Headers): void {
    this.events.push({ kind: 'trailers', headers });
  }
  onEnd(): void {
    this.events.push({ kind: 'end' });
  }
  onDrain(): void {
    this.events.push({ kind: 'drain' });
  }
  onClose(_stream: Http2Stream, error: Http2StreamFailure | null): void {
    this.events.push({ kind: 'close', error });
  }

  get kinds(): string[] {
    return this.events.map((event) => event.kind);
  }
  get body(): Buffer {
    return Buffer.concat(this.events.filter((event) => event.kind === 'data').map((event) => event.data!));
  }
  get closeCount(): number {
    return this.events.filter((event) => event.kind === 'close').length;
  }
  /** The error `onClose` got (undefined while open). */
  get closeError(): Http2StreamFailure | null | undefined {
    return this.events.find((event) => event.kind === 'close')?.error;
  }
}

/** A request the server connection received. */
export interface ReceivedStream {
  readonly stream: Http2Stream;
  readonly headers: Http2Headers;
  readonly isEndStream: boolean;
  readonly recorder: StreamRecorder;
}

/** Options of a harness. */
export interface HarnessOptions {
  /** Connection options (server: `onStream` is wrapped to record streams). */
  connection?: Http2ConnectionOptions;
  channel?: TestingChannelOptions;
  /** Settings the peer announces in its preface. */
  peerSettings?: [number, number][];
  /** Run the preface/SETTINGS exchange (default true). */
  handshake?: boolean;
}

/**
 * The connection under test in a TestingChannel, with the test as its peer. `flush()` completes
 * writes until none are pending and returns every frame written meanwhile.
 */
export class Harness<C extends Http2Connection> {
  readonly tc: TestingChannel;
  readonly peer = new PeerWriter();
  readonly reader: PeerReader;
  /** Server: streams the peer opened, in order. */
  readonly received: ReceivedStream[] = [];
  /** Frames of the handshake (our SETTINGS, WINDOW_UPDATE, SETTINGS ACK). */
  handshakeFrames: WrittenFrame[] = [];
  /** Errors reported through `onError`. */
  readonly connectionErrors: Error[] = [];

  constructor(
    readonly conn: C,
    channelOptions: TestingChannelOptions = {},
  ) {
    this.reader = new PeerReader(conn.role);
    // 16 KiB messages unless a test asks otherwise, so message boundaries do not follow the pool's defaults.
    this.tc = new TestingChannel([conn], {
      ...channelOptions,
      messagePool: { dataMessageSize: 16 * 1024, ...channelOptions.messagePool },
    });
  }

  /** The peer sends these bytes (one read). */
  send(...chunks: Buffer[]): void {
    this.tc.pushRead(Buffer.concat(chunks));
  }

  /** Runs the loop, then returns the frames written since the last call, without completing any write. */
  written(): WrittenFrame[] {
    this.tc.runUntilIdle();
    return this.reader.read(this.tc.takeWrittenMessages());
  }

  /** Completes writes until none is pending; returns every frame written since the last call. */
  flush(maxRounds = 10_000): WrittenFrame[] {
    this.tc.runUntilIdle();
    const frames = this.written();
    for (let round = 0; round < maxRounds && this.tc.pendingWriteCount > 0; round++) {
      this.tc.completeWrites();
      frames.push(...this.written());
    }
    return frames;
  }

  /** The peer sends, then every write completes: the frames the connection answered with. */
  exchange(...chunks: Buffer[]): WrittenFrame[] {
    this.send(...chunks);
    return this.flush();
  }

  /** Shuts the channel down (if it is not yet), completes every write, and checks no message leaked. */
  finish(): void {
    if (!this.tc.isShutDown) {
      this.tc.shutdown();
      this.flush();
    }
    expect(this.tc.isShutDown, 'channel shut down').to.equal(true);
    expect(this.tc.messagePool.outstanding, 'pooled messages outstanding').to.equal(0);
  }
}

/** A server connection after the preface and SETTINGS exchange (unless `handshake: false`). */
export function serverHarness(options: HarnessOptions = {}): Harness<Http2ServerConnection> {
  let harness: Harness<Http2ServerConnection> | null = null;
  const connectionOptions = options.connection ?? {};
  const userOnStream = connectionOptions.onStream;
  const userOnError = connectionOptions.onError;
  const conn = new Http2ServerConnection({
    ...connectionOptions,
    onStream(stream, headers, isEndStream) {
      const recorder = new StreamRecorder();
      recorder.stream = stream;
      stream.handler = recorder;
      harness!.received.push({ stream, headers, isEndStream, recorder });
      userOnStream?.(stream, headers, isEndStream);
    },
    onError(error) {
      harness?.connectionErrors.push(error);
      userOnError?.(error);
    },
  });
  harness = new Harness(conn, options.channel);
  if (options.handshake !== false) {
    const h = harness;
    h.handshakeFrames = h.exchange(h.peer.preface(), h.peer.settings(...(options.peerSettings ?? [])));
    h.handshakeFrames.push(...h.exchange(h.peer.settingsAck()));
  }
  return harness;
}

/** A client connection after the SETTINGS exchange (unless `handshake: false`). */
export function clientHarness(options: HarnessOptions = {}): Harness<Http2ClientConnection> {
  let harness: Harness<Http2ClientConnection> | null = null;
  const connectionOptions = options.connection ?? {};
  const userOnError = connectionOptions.onError;
  const conn = new Http2ClientConnection({
    ...connectionOptions,
    onError(error) {
      harness?.connectionErrors.push(error);
      userOnError?.(error);
    },
  });
  harness = new Harness(conn, options.channel);
  if (options.handshake !== false) {
    const h = harness;
    h.handshakeFrames = h.exchange(h.peer.settings(...(options.peerSettings ?? [])));
    h.handshakeFrames.push(...h.exchange(h.peer.settingsAck()));
  }
  return harness;
}

/**
 * Runs the loop and lets promise callbacks and `setImmediate` work run, a few rounds (for code
 * that continues after an `await`); returns every frame written meanwhile.
 */
export async function settle<C extends Http2Connection>(h: Harness<C>, rounds = 5): Promise<WrittenFrame[]> {
  const frames: WrittenFrame[] = [];
  for (let round = 0; round < rounds; round++) {
    frames.push(...h.flush());
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  frames.push(...h.flush());
  return frames;
}

/** Client: sends a request and returns its stream with a recorder as handler. */
export function request(
  h: Harness<Http2ClientConnection>,
  headers: Http2Headers = GET,
  options: Omit<Http2RequestOptions, 'handler'> = { isEndStream: true },
): { stream: Http2Stream; recorder: StreamRecorder } {
  const recorder = new StreamRecorder();
  const stream = h.conn.request(headers, { ...options, handler: recorder });
  recorder.stream = stream;
  return { stream, recorder };
}

export { ErrorCode, FrameFlag, FrameType };
