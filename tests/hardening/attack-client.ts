/**
 * The hardening suite's toolkit: a raw-socket HTTP/2 attacker (frames crafted with the project's
 * encoders through {@link PeerWriter}, or by hand), a hostile raw-socket server for the client
 * role, a well-behaved `node:http2` client that keeps requesting while an attack runs, a sluice
 * test server, and a memory probe that forces garbage collection.
 *
 * Everything here is bounded: every wait has a deadline, every loop a count.
 *
 * @module
 */
import http2 from 'node:http2';
import net from 'node:net';
import '../../handlers/socket/index.js';
import type { EventLoopGroup, Listener, SluiceError } from '../../lib/index.js';
import { CONNECTION_PREFACE, FrameFlag, FrameType } from '../../handlers/http2/wire/constants.js';
import type { Http2ConnectionOptions, Http2Headers } from '../../handlers/http2/connection/connection-options.js';
import { FrameDecoder, type FrameListener } from '../../handlers/http2/wire/frame-decoder.js';
import { listenHttp2 } from '../../handlers/http2/api/bootstrap.js';
import type { Http2ConnectionError } from '../../handlers/http2/errors.js';
import type { Http2Stream } from '../../handlers/http2/connection/http2-stream.js';
import { PeerWriter } from '../handlers/http2/peer.js';
import { forceGc, memoryInUse } from '../support/gc.js';
import { rawFrame } from '../support/raw-frames.js';

// ------------------------------------------------------------------------------ time and memory

/** Milliseconds on a monotonic clock. */
export function now(): number {
  return performance.now();
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Lets one macrotask turn run (the server shares this thread with the attacker). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Polls `condition` every few ms until it holds or `timeoutMs` passes; resolves with the last value. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, stepMs = 5): Promise<boolean> {
  const deadline = now() + timeoutMs;
  while (!condition()) {
    if (now() >= deadline) return false;
    await sleep(stepMs);
  }
  return true;
}

/**
 * MemoryProbe records a baseline after a full GC, then samples live memory (again after a GC)
 * periodically and whenever `sample()` is called; `stop()` returns the peak growth in bytes.
 */
export class MemoryProbe {
  /** Live memory at the start, bytes. */
  readonly baseline: number;
  private peak: number;
  private readonly timer: NodeJS.Timeout;

  /** Takes the baseline and starts sampling every `intervalMs`. */
  constructor(intervalMs = 100) {
    forceGc();
    forceGc();
    this.baseline = memoryInUse();
    this.peak = this.baseline;
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Samples now (after a GC). */
  sample(): void {
    forceGc();
    const value = memoryInUse();
    if (value > this.peak) this.peak = value;
  }

  /** Stops sampling and returns the peak growth over the baseline, bytes (never negative). */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return Math.max(0, this.peak - this.baseline);
  }
}

/** Bytes as MiB with one decimal. */
export function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

// ------------------------------------------------------------------------------ HPACK by hand

/** An HPACK integer with an `prefixBits`-bit prefix and the high `flags` bits of its first octet (RFC 7541 §5.1). */
export function hpackInteger(value: number, prefixBits: number, flags: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [flags | value];
  const out = [flags | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** An HPACK string literal without Huffman coding (RFC 7541 §5.2). */
export function hpackString(text: string): number[] {
  return [...hpackInteger(text.length, 7, 0), ...Buffer.from(text, 'latin1')];
}

/** `:method GET`, `:scheme http`, `:path /` from the static table and `:authority` literal: a GET request's pseudo-headers. */
export function hpackGetPrefix(path = '/'): number[] {
  const out = [0x82, 0x86];
  if (path === '/') out.push(0x84);
  else out.push(...hpackInteger(4, 4, 0x00), ...hpackString(path)); // literal, name :path (index 4)
  out.push(...hpackInteger(1, 4, 0x00), ...hpackString('127.0.0.1')); // :authority, without indexing
  return out;
}

/** A field added to the dynamic table (literal with incremental indexing, new name, §6.2.1). */
export function hpackIndexedLiteral(name: string, value: string): number[] {
  return [0x40, ...hpackString(name), ...hpackString(value)];
}

/** A field not indexed, new name (§6.2.2) — the name may be empty. */
export function hpackLiteral(name: string, value: string): number[] {
  return [0x00, ...hpackString(name), ...hpackString(value)];
}

// ------------------------------------------------------------------------------ frames received

/**
 * FrameTally counts what a peer sends, through the project's FrameDecoder: GOAWAY (first code
 * and when), RST_STREAM codes, DATA, PING and SETTINGS ACKs, header blocks. Header blocks are not
 * HPACK-decoded (the counts are what the tests need).
 */
export class FrameTally implements FrameListener {
  /** Error code of the first GOAWAY received, or null. */
  goawayCode: number | null = null;
  /** When the first GOAWAY arrived ({@link now}). */
  goawayAt = 0;
  /** Last stream id of the first GOAWAY. */
  goawayLastStreamId = -1;
  /** RST_STREAM frames received, by error code. */
  readonly resets = new Map<number, number>();
  /** The first RST_STREAM code received, or null. */
  firstResetCode: number | null = null;
  /** DATA frames (complete) and payload bytes. */
  dataFrames = 0;
  /** DATA payload bytes. */
  dataBytes = 0;
  /** END_STREAM seen on DATA or HEADERS. */
  endStreams = 0;
  /** PING frames with ACK, and without. */
  pingAcks = 0;
  /** PINGs without ACK (the peer's own). */
  pings = 0;
  /** SETTINGS frames without ACK, and ACKs. */
  settingsFrames = 0;
  /** SETTINGS ACKs. */
  settingsAcks = 0;
  /** Header blocks. */
  headerBlocks = 0;
  /** WINDOW_UPDATE frames. */
  windowUpdates = 0;
  /** The decoder failed on what the peer sent (should not happen with a sluice peer). */
  decodeError: Error | null = null;
  private readonly decoder: FrameDecoder;

  /** `ownRole` is the role of the endpoint reading (the attacker is a client, the hostile server a server). */
  constructor(ownRole: 'client' | 'server') {
    this.decoder = new FrameDecoder(this, {
      role: ownRole,
      maxFrameSize: 16_777_215,
      maxHeaderBlockSize: 1 << 26,
      maxContinuationFrames: 1 << 20,
    });
  }

  /** Feeds received bytes; a decode failure is recorded, not thrown. */
  feed(chunk: Uint8Array): void {
    if (this.decodeError !== null) return;
    try {
      this.decoder.decode(chunk);
    } catch (error) {
      this.decodeError = error instanceof Error ? error : new Error(String(error));
    }
  }

  /** Total RST_STREAM frames. */
  get resetCount(): number {
    let total = 0;
    for (const count of this.resets.values()) total += count;
    return total;
  }

  onData(
    _streamId: number,
    _data: Uint8Array,
    start: number,
    end: number,
    _flow: number,
    isFrameEnd: boolean,
    isEndStream: boolean,
  ): void {
    this.dataBytes += end - start;
    if (isFrameEnd) this.dataFrames++;
    if (isEndStream) this.endStreams++;
  }

  onHeaders(_streamId: number, _block: Uint8Array, _start: number, _end: number, isEndStream: boolean): void {
    this.headerBlocks++;
    if (isEndStream) this.endStreams++;
  }

  onPriority(): void {}

  onRstStream(_streamId: number, errorCode: number): void {
    this.resets.set(errorCode, (this.resets.get(errorCode) ?? 0) + 1);
    this.firstResetCode ??= errorCode;
  }

  onSettings(_settings: readonly number[], isAck: boolean): void {
    if (isAck) this.settingsAcks++;
    else this.settingsFrames++;
  }

  onPushPromise(): void {}

  onPing(_high: number, _low: number, isAck: boolean): void {
    if (isAck) this.pingAcks++;
    else this.pings++;
  }

  onGoaway(lastStreamId: number, errorCode: number): void {
    if (this.goawayCode !== null) return;
    this.goawayCode = errorCode;
    this.goawayLastStreamId = lastStreamId;
    this.goawayAt = now();
  }

  onWindowUpdate(): void {
    this.windowUpdates++;
  }

  onStreamError(): void {}

  onUnknownFrame(): void {}
}

// ------------------------------------------------------------------------------ the attacker

/** Options of {@link Attacker.connect}. */
export interface AttackerOptions {
  /** Settings sent in the preface. */
  settings?: [number, number][];
  /** Wait for the server's SETTINGS and ACK them (default true). */
  handshake?: boolean;
}

/**
 * Attacker is a raw `node:net` HTTP/2 client written for the tests: it sends crafted frames with
 * back-pressure (its own memory stays bounded), can stop reading its socket, and tallies what
 * the server sends with the project's FrameDecoder.
 */
export class Attacker {
  /** Frame builder with its own HPACK context. */
  readonly peer = new PeerWriter();
  /** What the server sent. */
  readonly tally = new FrameTally('client');
  /** True once the socket closed. */
  isClosed = false;
  /** When the socket closed ({@link now}). */
  closedAt = 0;
  /** A socket error (ECONNRESET, EPIPE, …), if any. */
  socketError: Error | null = null;
  /** Bytes written by the attack. */
  bytesSent = 0;
  /** When the attack proper began (after the handshake). */
  startedAt = 0;
  private isReading = true;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.tally.feed(chunk));
    socket.on('error', (error) => (this.socketError ??= error));
    socket.on('close', () => {
      this.isClosed = true;
      this.closedAt = now();
    });
  }

  /** Connects to 127.0.0.1:`port`, sends the preface and SETTINGS, and (by default) completes the SETTINGS exchange. */
  static async connect(port: number, options: AttackerOptions = {}): Promise<Attacker> {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const attacker = new Attacker(socket);
    await attacker.send(
      Buffer.concat([Buffer.from(CONNECTION_PREFACE), attacker.peer.settings(...(options.settings ?? []))]),
    );
    if (options.handshake !== false) {
      await waitUntil(() => attacker.tally.settingsFrames > 0 || attacker.isClosed, 2000);
      await attacker.send(attacker.peer.settingsAck());
    }
    attacker.startedAt = now();
    return attacker;
  }

  /** True once a GOAWAY arrived or the socket closed: the attack on this connection is over. */
  get isDone(): boolean {
    return this.tally.goawayCode !== null || this.isClosed;
  }

  /**
   * Writes `bytes`; when the socket's buffer is full, waits for 'drain' (or close) at most
   * `maxWaitMs`. Resolves false if the socket closed or the wait timed out (the server stopped reading).
   */
  async send(bytes: Uint8Array, maxWaitMs = 1000): Promise<boolean> {
    if (this.isClosed || this.socket.destroyed) return false;
    this.bytesSent += bytes.length;
    if (this.socket.write(bytes)) return true;
    return new Promise<boolean>((resolve) => {
      const done = (result: boolean): void => {
        clearTimeout(timer);
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
        resolve(result);
      };
      const onDrain = (): void => done(true);
      const onClose = (): void => done(false);
      const timer = setTimeout(() => done(false), maxWaitMs);
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /** Bytes waiting in this socket's user-space write buffer. */
  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  /** Stops reading the socket: the server's writes back up in the kernel, then in the server. */
  pauseReading(): void {
    this.isReading = false;
    this.socket.pause();
  }

  /** Reads again (what the kernel buffered arrives). */
  resumeReading(): void {
    if (this.isReading) return;
    this.isReading = true;
    this.socket.resume();
  }

  /**
   * Sends batches from `batch(i)` until the attack is over (GOAWAY or close), `maxBatches` went
   * out, `maxMs` passed, or the server stopped taking bytes; yields a turn between batches so
   * the server (same thread) runs. Resolves with the number of batches sent.
   */
  async flood(batch: (index: number) => Uint8Array, maxBatches: number, maxMs: number): Promise<number> {
    const deadline = now() + maxMs;
    let sent = 0;
    while (sent < maxBatches && !this.isDone && now() < deadline) {
      if (!(await this.send(batch(sent), Math.max(1, deadline - now())))) break;
      sent++;
      await turn();
    }
    return sent;
  }

  /** Waits for a GOAWAY or close, at most `timeoutMs`. */
  waitDone(timeoutMs: number): Promise<boolean> {
    return waitUntil(() => this.isDone, timeoutMs);
  }

  /** Waits for the socket to close, at most `timeoutMs`. */
  waitClosed(timeoutMs: number): Promise<boolean> {
    return waitUntil(() => this.isClosed, timeoutMs);
  }

  /** Closes the socket now. */
  destroy(): void {
    this.socket.destroy();
  }
}

/** A GET request's header list for the attacker's PeerWriter. */
export function getHeaders(path = '/'): Http2Headers {
  return [':method', 'GET', ':scheme', 'http', ':authority', '127.0.0.1', ':path', path];
}

/** A POST request's header list. */
export function postHeaders(path = '/upload'): Http2Headers {
  return [':method', 'POST', ':scheme', 'http', ':authority', '127.0.0.1', ':path', path];
}

/** HEADERS with a raw header block (END_HEADERS set unless told otherwise). */
export function headersFrame(
  streamId: number,
  block: Uint8Array,
  options: { endStream?: boolean; endHeaders?: boolean } = {},
): Buffer {
  let flags = options.endHeaders === false ? 0 : FrameFlag.END_HEADERS;
  if (options.endStream === true) flags |= FrameFlag.END_STREAM;
  return rawFrame(FrameType.HEADERS, flags, streamId, block);
}

// ------------------------------------------------------------------------------ the sluice test server

/** Bytes of the body `GET /` answers with. */
export const HELLO_BODY = 'hello from sluice\n';
const BIG_CHUNK = Buffer.alloc(16 * 1024, 0x61);

/** A sluice HTTP/2 server on 127.0.0.1 with the routes the attacks use, and what it reported. */
export interface TestServer {
  /** The listener. */
  readonly listener: Listener;
  /** Its port. */
  readonly port: number;
  /** Errors the connections reported through `onError`, with when. */
  readonly errors: { error: Http2ConnectionError | SluiceError; at: number }[];
  /** Connections closed (`onClose`), with their errors. */
  readonly closes: { error: SluiceError | null; at: number }[];
  /** Closes the listener and every connection (bounded: connections still open after 3 s are left to their sockets). */
  close(): Promise<void>;
}

/** Options of {@link startTestServer}. */
export interface TestServerOptions {
  /** Connection options (the routes' `onStream` is installed over them). */
  http2?: Http2ConnectionOptions;
  /** Loops to run on. */
  loopGroup?: EventLoopGroup;
  /** Replaces the default routes. */
  onStream?: (stream: Http2Stream, headers: Http2Headers, isEndStream: boolean) => void;
}

/**
 * Starts a sluice server on 127.0.0.1 with `listenHttp2`. Routes: `GET /` answers 200 with
 * {@link HELLO_BODY}; `/slow` answers after 20 ms; `/big` streams 64 MiB with back-pressure
 * (16 KiB chunks, continuing on drain); anything with a body is read and answered 200 at its end.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const errors: TestServer['errors'] = [];
  const closes: TestServer['closes'] = [];
  const listener = await listenHttp2({
    host: '127.0.0.1',
    port: 0,
    ...(options.loopGroup !== undefined ? { loopGroup: options.loopGroup } : {}),
    http2: {
      ...options.http2,
      onStream: options.onStream ?? serveRoutes,
      onError: (error) => errors.push({ error, at: now() }),
      onClose: (error) => closes.push({ error, at: now() }),
    },
  });
  return {
    listener,
    port: listener.port,
    errors,
    closes,
    close: async () => {
      await Promise.race([listener.close(), sleep(3000)]);
    },
  };
}

function pathOf(headers: Http2Headers): string {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === ':path') return headers[i + 1];
  return '/';
}

function respond(stream: Http2Stream, body: string): void {
  if (!stream.isWritable) return;
  stream.sendHeaders([':status', '200', 'content-type', 'text/plain']);
  stream.write(Buffer.from(body));
  stream.end();
}

function serveRoutes(stream: Http2Stream, headers: Http2Headers, isEndStream: boolean): void {
  const path = pathOf(headers);
  if (path === '/slow') {
    const timer = setTimeout(() => respond(stream, HELLO_BODY), 20);
    stream.handler = { onClose: () => clearTimeout(timer) };
    return;
  }
  if (path === '/big') {
    let remaining = 64 * 1024 * 1024;
    const pump = (): void => {
      while (remaining > 0 && stream.isWritable) {
        remaining -= BIG_CHUNK.length;
        const isBelow = stream.write(BIG_CHUNK);
        if (remaining <= 0) stream.end();
        if (!isBelow) return;
      }
    };
    stream.handler = { onDrain: pump };
    stream.sendHeaders([':status', '200', 'content-type', 'application/octet-stream']);
    pump();
    return;
  }
  if (isEndStream) {
    respond(stream, HELLO_BODY);
    return;
  }
  stream.handler = { onEnd: (s) => respond(s, HELLO_BODY) };
}

// ------------------------------------------------------------------------------ the good client

/**
 * GoodClient is a well-behaved `node:http2` client that requests `GET /` in a loop (one at a
 * time) until stopped, recording when each request completed and any failure.
 */
export class GoodClient {
  /** Completion times of successful requests ({@link now}). */
  readonly completions: number[] = [];
  /** Failures, as messages. */
  readonly failures: string[] = [];
  private isRunning = true;
  private loop: Promise<void> = Promise.resolve();

  private constructor(private readonly session: http2.ClientHttp2Session) {
    session.on('error', (error: Error) => this.failures.push(`session: ${error.message}`));
  }

  /** Connects to the sluice server and starts requesting. Resolves after a first successful request. */
  static async start(port: number): Promise<GoodClient> {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const client = new GoodClient(session);
    await client.requestOnce();
    client.loop = client.run();
    return client;
  }

  /** Successful requests completed within [from, to]. */
  countBetween(from: number, to: number): number {
    return this.completions.filter((at) => at >= from && at <= to).length;
  }

  /** Stops the loop and closes the session (bounded). */
  async stop(): Promise<void> {
    this.isRunning = false;
    await Promise.race([this.loop, sleep(6000)]);
    await Promise.race([new Promise<void>((resolve) => this.session.close(() => resolve())), sleep(1000)]);
    this.session.destroy();
  }

  private async run(): Promise<void> {
    // Bounded: at most 200 000 requests, and each has a 5 s deadline.
    for (let i = 0; i < 200_000 && this.isRunning; i++) {
      await this.requestOnce();
      await sleep(2);
    }
  }

  private requestOnce(): Promise<void> {
    return new Promise<void>((resolve) => {
      let body = '';
      let status = 0;
      const request = this.session.request({ ':method': 'GET', ':path': '/' }, { endStream: true });
      const timer = setTimeout(() => {
        this.failures.push('request timed out');
        request.close();
        resolve();
      }, 5000);
      request.setEncoding('latin1');
      request.on('response', (headers) => (status = Number(headers[':status'])));
      request.on('data', (chunk: string) => (body += chunk));
      request.on('error', (error: Error) => {
        clearTimeout(timer);
        this.failures.push(`request: ${error.message}`);
        resolve();
      });
      request.on('end', () => {
        clearTimeout(timer);
        if (status === 200 && body === HELLO_BODY) this.completions.push(now());
        else this.failures.push(`unexpected response ${status} ${JSON.stringify(body.slice(0, 40))}`);
        resolve();
      });
    });
  }
}

// ------------------------------------------------------------------------------ the hostile server

/**
 * HostileServer is a raw `node:net` server playing a misbehaving HTTP/2 server for the sluice
 * client: `onConnection` gets each socket with a {@link FrameTally} of what the client sent
 * (fed from the socket unless the handler pauses it).
 */
export class HostileServer {
  /** Sockets accepted. */
  readonly sockets: net.Socket[] = [];
  /** Tallies of what each client sent. */
  readonly tallies: FrameTally[] = [];

  private constructor(readonly server: net.Server) {}

  /** Listens on 127.0.0.1; `onConnection` runs for each client. */
  static async listen(onConnection: (socket: net.Socket, tally: FrameTally) => void): Promise<HostileServer> {
    const server = net.createServer();
    const hostile = new HostileServer(server);
    server.on('connection', (socket) => {
      const tally = new FrameTally('server');
      hostile.sockets.push(socket);
      hostile.tallies.push(tally);
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => tally.feed(chunk));
      onConnection(socket, tally);
    });
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
    return hostile;
  }

  /** The bound port. */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Destroys every socket and closes the server. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.race([new Promise<void>((resolve) => this.server.close(() => resolve())), sleep(1000)]);
  }
}
