/**
 * Stalled, silent and slow peers against the one-API server over loopback, one real-socket test
 * per kind with small rates and deadlines (the rules themselves are tested in virtual time beside
 * the connections): the handshake deadline, the HTTP/2 idle timeout, the minimum response rate and
 * the minimum request-body rate. After each cut, another connection is served.
 */
import { expect } from 'chai';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import {
  createServer,
  type HttpServerListener,
  type HttpServerOptions,
  type HttpServerStream,
} from '../../../handlers/http1/index.js';
import { IoErrors, type MinDataRate } from '../../../lib/index.js';
import { until } from '../../support/waiting.js';

/** A generous rate for loopback, with a short grace: a peer that stops is cut within a second or so. */
const FAST: MinDataRate = Object.freeze({ bytesPerSecond: 100_000, graceMs: 200 });
/** A small rate for the uploads, which trickle at a tenth of it. */
const SLOW: MinDataRate = Object.freeze({ bytesPerSecond: 1000, graceMs: 300 });

async function handler(stream: HttpServerStream): Promise<void> {
  if (stream.path === '/big') {
    // More than loopback's buffers hold (the receive buffer may grow to 32 MiB), made as it is sent.
    stream.respond(200, { 'content-type': 'application/octet-stream' });
    await stream.send(megabytes(256)).catch(() => undefined);
    return;
  }
  if (stream.path === '/upload') {
    let length = 0;
    for await (const chunk of stream.body) length += chunk.length;
    await stream.end(`${length}\n`);
    return;
  }
  await stream.end(`hello over ${stream.protocol}\n`);
}

function* megabytes(count: number): Generator<Buffer> {
  const chunk = Buffer.alloc(1024 * 1024, 0x62);
  for (let i = 0; i < count; i++) yield chunk;
}

function getOverHttp1(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve(text));
        response.on('error', reject);
      })
      .on('error', reject);
  });
}

async function getOverHttp2(port: number): Promise<string> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  try {
    const request = session.request({ ':path': '/' });
    request.setEncoding('utf8');
    let text = '';
    request.on('data', (chunk: string) => (text += chunk));
    await new Promise<void>((resolve, reject) => {
      request.on('end', resolve);
      request.on('error', reject);
    });
    return text;
  } finally {
    session.close();
  }
}

/** Both protocols are still served on the port. */
async function expectStillServing(port: number): Promise<void> {
  expect(await getOverHttp1(port)).to.equal('hello over http/1.1\n');
  expect(await getOverHttp2(port)).to.equal('hello over h2\n');
}

describe('one API over loopback: stalled, silent and slow peers', function () {
  this.timeout(30_000);
  let listener: HttpServerListener | null;
  let sockets: net.Socket[];
  let errors: string[];

  beforeEach(() => {
    listener = null;
    sockets = [];
    errors = [];
  });

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    await listener?.close();
  });

  async function listen(options: HttpServerOptions): Promise<number> {
    listener = await createServer(
      { ...options, onError: (error) => errors.push(String((error as { code?: string }).code)) },
      handler,
    ).listen();
    return listener.port;
  }

  /** A raw TCP connection; `closed` resolves when the server closes it. */
  function rawConnection(port: number): { socket: net.Socket; received: Buffer[]; closed: () => boolean } {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    const received: Buffer[] = [];
    let isClosed = false;
    socket.on('data', (data: Buffer) => received.push(data));
    socket.on('error', () => undefined);
    socket.on('close', () => (isClosed = true));
    return { socket, received, closed: () => isClosed };
  }

  it('closes a silent connection, a half-sent HTTP/2 preface and a half-sent request line at the handshake deadline', async () => {
    const port = await listen({ http1: { handshakeTimeoutMs: 300 }, http2: { handshakeTimeoutMs: 300 } });
    const silent = rawConnection(port);
    const halfPreface = rawConnection(port);
    halfPreface.socket.write('PRI * HTTP/2.0\r\n');
    const halfPrefaceAfterSniff = rawConnection(port);
    halfPrefaceAfterSniff.socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    const halfRequestLine = rawConnection(port);
    halfRequestLine.socket.write('GET /some/pa');
    for (const connection of [silent, halfPreface, halfPrefaceAfterSniff, halfRequestLine]) {
      await until(connection.closed, 'the server to close a connection that did not finish its handshake');
    }
    expect(Buffer.concat(silent.received).length, 'nothing was sent to the silent connection').to.equal(0);
    expect(errors).to.include(IoErrors.HANDSHAKE_TIMEOUT.code);
    await expectStillServing(port);
  });

  it('sends GOAWAY(NO_ERROR) to an idle HTTP/2 connection at the idle deadline', async () => {
    const port = await listen({ http2: { idleTimeoutMs: 300 } });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    let goawayCode: number | null = null;
    let isClosed = false;
    session.on('goaway', (code: number) => (goawayCode ??= code));
    session.on('close', () => (isClosed = true));
    const request = session.request({ ':path': '/' });
    request.resume();
    await new Promise<void>((resolve) => request.on('close', resolve));
    await until(() => isClosed, 'the idle session to be closed by the server');
    expect(goawayCode).to.equal(http2.constants.NGHTTP2_NO_ERROR);
    await expectStillServing(port);
  });

  it('cuts an HTTP/2 reader that withholds WINDOW_UPDATE: GOAWAY(ENHANCE_YOUR_CALM), IO_SEND_RATE_TOO_LOW', async () => {
    const port = await listen({ http2: { minResponseDataRate: FAST } });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    let goawayCode: number | null = null;
    session.on('goaway', (code: number) => (goawayCode ??= code));
    const request = session.request({ ':path': '/big' });
    request.on('error', () => undefined);
    request.pause(); // read nothing: no credit returns to the server
    await until(() => goawayCode !== null, 'the server to cut the reader off');
    expect(goawayCode).to.equal(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect(errors).to.include(IoErrors.SEND_RATE_TOO_LOW.code);
    session.destroy();
    await expectStillServing(port);
  });

  it('serves an HTTP/1.1 keep-alive connection again after a second idle (its deadlines given back), then closes it idle', async () => {
    const port = await listen({ http1: { idleTimeoutMs: 1600, headerTimeoutMs: 400 } });
    const client = rawConnection(port);
    client.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(() => Buffer.concat(client.received).includes('hello over http/1.1\n'), 'the first response');
    // Past the second after which an idle connection gives its deadlines back to the pool.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(client.closed()).to.equal(false);
    client.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(
      () => Buffer.concat(client.received).toString().split('hello over http/1.1\n').length === 3,
      'the second response, after the idle gap',
    );
    // The header timeout still times a head begun after the gap: a half-sent one is cut.
    client.socket.write('GET / HTTP/1.1\r\n');
    await until(client.closed, 'the server to close a connection whose next head stopped half-way');
    expect(errors).to.include('HTTP1_HEADER_TIMEOUT');
    const idle = rawConnection(port);
    idle.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(idle.closed, 'the server to close an idle keep-alive connection at its idle timeout');
    expect(errors.filter((code) => code !== 'HTTP1_HEADER_TIMEOUT')).to.deep.equal([]);
  });

  it('closes an HTTP/1.1 connection whose reader never reads with IO_SEND_RATE_TOO_LOW', async () => {
    const port = await listen({ http1: { minResponseDataRate: FAST } });
    const reader = rawConnection(port);
    reader.socket.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
    reader.socket.pause();
    // A reader that reads nothing never sees the close either: look at the server's side.
    await until(
      () => errors.includes(IoErrors.SEND_RATE_TOO_LOW.code) && listener!.connectionCount === 0,
      'the server to close the connection of a reader that does not read',
    );
    await expectStillServing(port);
  });

  it('answers an HTTP/1.1 upload at a tenth of the rate with 408 and closes', async () => {
    const port = await listen({ http1: { minRequestBodyDataRate: SLOW } });
    const uploader = rawConnection(port);
    uploader.socket.write('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n');
    const trickle = setInterval(() => uploader.socket.write('0123456789'), 100);
    try {
      await until(uploader.closed, 'the server to answer the slow upload and close');
    } finally {
      clearInterval(trickle);
    }
    expect(Buffer.concat(uploader.received).toString('latin1')).to.match(/^HTTP\/1\.1 408 /);
    await expectStillServing(port);
  });

  it('resets an HTTP/2 upload at a tenth of the rate with RST_STREAM(ENHANCE_YOUR_CALM)', async () => {
    const port = await listen({ http2: { minRequestBodyDataRate: SLOW } });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    const request = session.request({ ':method': 'POST', ':path': '/upload' });
    request.on('error', () => undefined);
    request.resume();
    let rstCode: number | null = null;
    request.on('close', () => (rstCode = request.rstCode ?? -1));
    const trickle = setInterval(() => {
      if (!request.destroyed) request.write('0123456789');
    }, 100);
    try {
      await until(() => rstCode !== null, 'the server to reset the slow upload');
    } finally {
      clearInterval(trickle);
    }
    expect(rstCode).to.equal(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    // The connection goes on: the same session still gets answers.
    const next = session.request({ ':path': '/' });
    next.setEncoding('utf8');
    let text = '';
    next.on('data', (chunk: string) => (text += chunk));
    await new Promise<void>((resolve) => next.on('end', resolve));
    expect(text).to.equal('hello over h2\n');
    session.close();
    await expectStillServing(port);
  });
});
