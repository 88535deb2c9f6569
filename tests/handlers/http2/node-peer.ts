/**
 * Helpers for the tests against `node:http2`: a node server and client that always close,
 * payloads and hashes, and the message-pool check (waiting is in `tests/support/waiting.ts`).
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import type { Writable } from 'node:stream';
import { defaultEventLoopGroup } from '../../../lib/index.js';
import { connect, type Http2Session } from '../../../handlers/http2/api/session.js';
import { until } from '../../support/waiting.js';
import { closeServer, listenOnLoopback } from '../../support/loopback.js';

export const MiB = 1024 * 1024;

let bigPayload: Buffer | null = null;

/** 64 MiB of random bytes, made once per process. */
export function payload64(): Buffer {
  bigPayload ??= randomBytes(64 * MiB);
  return bigPayload;
}

/** Hashes every chunk of an async iterable; resolves with the hash and the byte count. */
export async function hashChunks(chunks: AsyncIterable<Uint8Array | string>): Promise<{ sha: string; length: number }> {
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    hash.update(bytes);
    length += bytes.length;
  }
  return { sha: hash.digest('hex'), length };
}

/** Yields `data` in `size`-byte views. */
export function* slices(data: Uint8Array, size: number): Generator<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += size)
    yield data.subarray(offset, Math.min(data.length, offset + size));
}

/** Runs `task(index)` for `total` indexes with at most `concurrency` at once. */
export async function runConcurrently(
  total: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Resolves with what `promise` rejected with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Writes `data` to a node writable in `chunkSize` pieces, waiting for 'drain' when asked; ends it. */
export async function writeAll(
  writable: Writable,
  data: Uint8Array,
  chunkSize: number,
  onChunk?: (written: number) => void,
): Promise<void> {
  let written = 0;
  for (const chunk of slices(data, chunkSize)) {
    if (writable.destroyed) return;
    const isBelow = writable.write(chunk);
    written += chunk.length;
    onChunk?.(written);
    if (!isBelow)
      await new Promise<void>((resolve) => {
        const done = (): void => {
          writable.off('drain', done);
          writable.off('close', done);
          resolve();
        };
        writable.on('drain', done);
        writable.on('close', done);
      });
  }
  writable.end();
}

/** A `node:http2` server on 127.0.0.1 whose `close()` also ends every session. */
export interface NodeServer {
  readonly server: http2.Http2Server;
  readonly url: string;
  readonly sessions: Set<http2.ServerHttp2Session>;
  close(): Promise<void>;
}

/** Starts a `node:http2` h2c server; `onStream` handles each request. */
export async function startNodeServer(
  options: http2.ServerOptions,
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
): Promise<NodeServer> {
  const server = http2.createServer(options);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    onStream(stream, headers);
  });
  const port = await listenOnLoopback(server);
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    sessions,
    close: () => {
      for (const session of sessions) session.destroy();
      return closeServer(server);
    },
  };
}

/** Connects a `node:http2` client and waits for its connection. */
export async function connectNode(
  url: string,
  options: http2.ClientSessionOptions = {},
): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(url, options);
  session.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  return session;
}

/** Closes a `node:http2` client session and waits for it. */
export function closeNode(session: http2.ClientHttp2Session): Promise<void> {
  if (session.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => session.close(() => resolve()));
}

/** A node client request's response: status, headers, body bytes, trailers. */
export interface NodeResponse {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
  rstCode: number;
}

/**
 * Reads a whole node client response (the request must already be ended or ending); resolves
 * when the stream closes, also after a reset (see `rstCode`).
 */
export function readNodeResponse(request: http2.ClientHttp2Stream): Promise<NodeResponse> {
  return new Promise<NodeResponse>((resolve) => {
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    request.on('response', (received: http2.IncomingHttpHeaders) => (headers = received));
    request.on('trailers', (received: http2.IncomingHttpHeaders) => (trailers = received));
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('error', () => undefined);
    request.on('close', () =>
      resolve({ headers, body: Buffer.concat(chunks), trailers, rstCode: request.rstCode ?? 0 }),
    );
  });
}

/** Asserts every pooled message of the default loop came back (call after everything closed). */
export async function expectMessagePoolDrained(): Promise<void> {
  const pool = defaultEventLoopGroup().loops[0].messagePool;
  await until(() => pool.outstanding === 0, 'pooled messages to be released', 2000).catch(() => undefined);
  expect(pool.outstanding).to.equal(0);
}

/** Collects unhandled promise rejections from `start()` until `stop()`, which returns them. */
export function unhandledRejections(): { start(): void; stop(): unknown[] } {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    seen.push(reason);
  };
  return {
    start: () => process.on('unhandledRejection', onUnhandled),
    stop: () => {
      process.off('unhandledRejection', onUnhandled);
      return seen;
    },
  };
}

/** What {@link useNodeServerSession} sets up: a node:http2 server and a sluice session to it. */
export interface NodeServerSession {
  node: NodeServer;
  session: Http2Session;
}

/**
 * Registers mocha hooks for the enclosing `describe`: before, a node:http2 server running
 * `route` and a sluice session connected to it; after, both closed, and no unhandled rejection
 * (nor, with `isPoolChecked`, pooled message) left behind.
 */
export function useNodeServerSession(
  route: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
  isPoolChecked = false,
): NodeServerSession {
  const unhandled = unhandledRejections();
  const peers = {} as NodeServerSession;
  before(async () => {
    unhandled.start();
    peers.node = await startNodeServer({}, route);
    peers.session = await connect(new URL(peers.node.url));
  });
  after(async () => {
    await peers.session.close();
    await peers.node.close();
    expect(unhandled.stop()).to.deep.equal([]);
    if (isPoolChecked) await expectMessagePoolDrained();
  });
  return peers;
}
