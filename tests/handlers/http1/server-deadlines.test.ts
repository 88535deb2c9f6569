/**
 * Stalled, silent and slow peers of an HTTP/1.1 server connection, in virtual time: the
 * handshake deadline (the first request line), the minimum response rate and the minimum
 * request-body rate.
 */
import { expect } from 'chai';
import { IoErrors, PassThroughHandler, TestingChannel, type MinDataRate } from '../../../lib/index.js';
import {
  Http1ServerConnection,
  type Http1ServerConnectionOptions,
  type Http1ServerStream,
} from '../../../handlers/http1/index.js';
import { Http1ServerExchange } from '../../../handlers/http1/api/server-exchange.js';

/** 1000 B/s after a 1 s grace: a byte earns a millisecond. */
const RATE: MinDataRate = Object.freeze({ bytesPerSecond: 1000, graceMs: 1000 });

interface Served {
  test: TestingChannel;
  requests: Http1ServerStream[];
  errors: string[];
}

/** A server connection on the testing channel with only the deadlines a test names switched on. */
function serve(
  onRequest: (stream: Http1ServerStream) => void,
  options: Partial<Http1ServerConnectionOptions>,
  autoCompleteWrites = true,
): Served {
  const requests: Http1ServerStream[] = [];
  const errors: string[] = [];
  const connection = new Http1ServerConnection({
    idleTimeoutMs: 0,
    handshakeTimeoutMs: 0,
    minResponseDataRate: null,
    minRequestBodyDataRate: null,
    onError: (error) => errors.push(error.code),
    ...options,
    onRequest: (stream) => {
      requests.push(stream);
      onRequest(stream);
    },
  });
  const test = new TestingChannel([connection], { autoCompleteWrites });
  return { test, requests, errors };
}

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string } | null | undefined)?.code;
}

/** A POST head announcing `length` body bytes. */
function post(length: number): string {
  return `POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${length}\r\n\r\n`;
}

/** Records the error the exchange closed with (undefined while open). */
function closeErrorOf(stream: Http1ServerStream): { error: unknown } {
  const seen: { error: unknown } = { error: undefined };
  stream.handler = { onData: () => {}, onClose: (_stream, error) => (seen.error = error) };
  return seen;
}

describe('http1 Http1ServerConnection: stalled, silent and slow peers', () => {
  describe('handshake deadline', () => {
    it('closes a silent connection at handshakeTimeoutMs with IO_HANDSHAKE_TIMEOUT, before any idle timeout would', () => {
      const { test, errors } = serve(() => {}, { handshakeTimeoutMs: 3000, idleTimeoutMs: 1000 });
      test.advance(2999);
      expect(test.isShutDown, 'the idle timeout does not apply before the first request').to.equal(false);
      test.advance(1);
      expect(test.isShutDown).to.equal(true);
      expect(codeOf(test.shutdownError)).to.equal(IoErrors.HANDSHAKE_TIMEOUT.code);
      expect(errors).to.deep.equal([IoErrors.HANDSHAKE_TIMEOUT.code]);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('closes a connection whose request line is still incomplete at the deadline', () => {
      const { test } = serve(() => {}, { handshakeTimeoutMs: 3000 });
      test.pushRead('GET /a-long-path HT');
      test.advance(3000);
      expect(codeOf(test.shutdownError)).to.equal(IoErrors.HANDSHAKE_TIMEOUT.code);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('ends once the request line came: the head is then the header timeout’s', () => {
      const { test, requests } = serve((stream) => stream.respond(204, [], true), {
        handshakeTimeoutMs: 3000,
        headerTimeoutMs: 10_000,
      });
      test.pushRead('GET / HTTP/1.1\r\n');
      test.advance(5000);
      expect(test.isShutDown).to.equal(false);
      test.pushRead('Host: a\r\n\r\n');
      expect(requests).to.have.length(1);
      test.advance(60_000);
      expect(test.isShutDown).to.equal(false);
      test.shutdown();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('counts from the connection’s acceptance (time before the handler, a TLS handshake, counts)', () => {
      const test = new TestingChannel([new PassThroughHandler()]);
      test.advance(2000);
      test.socketSlot.adjacentRight!.insertRight(
        new Http1ServerConnection({ handshakeTimeoutMs: 3000, onRequest: () => {} }),
      );
      test.advance(999);
      expect(test.isShutDown).to.equal(false);
      test.advance(1);
      expect(codeOf(test.shutdownError)).to.equal(IoErrors.HANDSHAKE_TIMEOUT.code);
    });
  });

  describe('minimum response rate', () => {
    /** Plays a reader taking `bytesPerSecond` through TCP: each write completes after its size at that rate. */
    function drain(test: TestingChannel, bytesPerSecond: number, maxWrites: number): void {
      for (let i = 0; i < maxWrites && !test.isShutDown && test.pendingWriteCount > 0; i++) {
        const size = test.takeWritten().length;
        test.advance(Math.ceil((size * 1000) / bytesPerSecond));
        if (test.isShutDown) break;
        test.completeWrites(1);
        test.runUntilIdle();
      }
    }

    function download(size: number): Served {
      const served = serve(
        (stream) => {
          stream.respond(200, ['content-length', String(size)]);
          stream.write(Buffer.alloc(size, 0x61));
          stream.end();
        },
        { minResponseDataRate: RATE },
        false,
      );
      served.test.pushRead('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      return served;
    }

    it('closes the connection of a reader at half the rate with IO_SEND_RATE_TOO_LOW', () => {
      const { test, errors } = download(600_000);
      drain(test, 500, 20);
      expect(test.isShutDown).to.equal(true);
      expect(codeOf(test.shutdownError)).to.equal(IoErrors.SEND_RATE_TOO_LOW.code);
      expect(errors).to.deep.equal([IoErrors.SEND_RATE_TOO_LOW.code]);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('keeps a reader at twice the rate until the response is written', () => {
      const { test, requests } = download(600_000);
      drain(test, 2000, 100);
      expect(test.isShutDown).to.equal(false);
      expect(requests[0].isClosed, 'the response was written whole').to.equal(true);
      test.shutdown();
      test.flushWrites();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('closes the connection of a reader that bursts, then trickles', () => {
      const { test } = download(1_500_000);
      drain(test, 100_000_000, 2);
      drain(test, 400, 20);
      expect(codeOf(test.shutdownError)).to.equal(IoErrors.SEND_RATE_TOO_LOW.code);
    });

    it('never times a response idle between messages, nor one lifted with setMinDataRate(null)', () => {
      let events: Http1ServerStream | null = null;
      const { test } = serve((stream) => (events = stream), { minResponseDataRate: RATE }, false);
      test.pushRead('GET /events HTTP/1.1\r\nHost: a\r\n\r\n');
      const stream = events!;
      stream.respond(200);
      for (let i = 0; i < 10; i++) {
        stream.write(Buffer.from(`data: ${i}\n\n`));
        test.runUntilIdle();
        test.flushWrites();
        test.advance(60_000);
      }
      expect(test.isShutDown).to.equal(false);
      stream.setMinDataRate(null);
      stream.write(Buffer.alloc(100_000));
      test.advance(600_000);
      expect(test.isShutDown).to.equal(false);
      test.shutdown(null, true);
      expect(test.messagePool.outstanding).to.equal(0);
    });
  });

  describe('minimum request-body rate', () => {
    it('answers an uploader at half the rate with 408 and Connection: close; the body fails with IO_RECEIVE_RATE_TOO_LOW', () => {
      let seen: { error: unknown } = { error: undefined };
      const { test } = serve((stream) => (seen = closeErrorOf(stream)), { minRequestBodyDataRate: RATE });
      test.pushRead(post(100_000));
      for (let i = 0; i < 60 && !test.isShutDown; i++) {
        test.advance(1000);
        if (!test.isShutDown) test.pushRead(Buffer.alloc(500, 0x62));
      }
      const written = test.takeWritten().toString('latin1');
      expect(written).to.match(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(written).to.match(/\r\nconnection: close\r\n/i);
      expect(test.isShutDown).to.equal(true);
      expect(codeOf(seen.error)).to.equal(IoErrors.RECEIVE_RATE_TOO_LOW.code);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('keeps an uploader at twice the rate', () => {
      const { test, requests } = serve((stream) => closeErrorOf(stream), { minRequestBodyDataRate: RATE });
      test.pushRead(post(30_000));
      for (let i = 0; i < 60; i++) {
        test.advance(250);
        test.pushRead(Buffer.alloc(500, 0x62));
      }
      expect(test.isShutDown).to.equal(false);
      expect(requests[0].isClosed).to.equal(false); // read whole, waiting for its response
      requests[0].respond(204, [], true);
      test.runUntilIdle();
      expect(test.takeWritten().toString('latin1')).to.match(/^HTTP\/1\.1 204/);
      test.shutdown();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('times the convenient body only while its reader waits: an application that stops reading never gets its peer cut', async () => {
      let exchange: Http1ServerExchange | null = null;
      const { test } = serve((stream) => (exchange = new Http1ServerExchange(stream, 'http', null)), {
        minRequestBodyDataRate: RATE,
        isManualWindow: true,
      });
      test.pushRead(post(1000) + 'x'.repeat(100));
      const body = exchange!.body[Symbol.asyncIterator]();
      expect((await body.next()).value).to.have.length(100);
      test.advance(600_000); // working on the chunk: nobody waits for the peer
      expect(test.isShutDown).to.equal(false);
      const read = body.next();
      read.catch(() => undefined);
      test.advance(999);
      expect(test.isShutDown).to.equal(false);
      test.advance(1);
      let failure: unknown = null;
      await read.catch((error: unknown) => (failure = error));
      expect(codeOf(failure)).to.equal(IoErrors.RECEIVE_RATE_TOO_LOW.code);
      expect(test.takeWritten().toString('latin1')).to.match(/^HTTP\/1\.1 408 /);
    });

    it('is lifted for an exchange set to setMinDataRate(null)', () => {
      const { test } = serve(
        (stream) => {
          closeErrorOf(stream);
          stream.setMinDataRate(null);
        },
        { minRequestBodyDataRate: RATE },
      );
      test.pushRead(post(100_000));
      test.advance(600_000);
      expect(test.isShutDown).to.equal(false);
      test.shutdown();
      expect(test.messagePool.outstanding).to.equal(0);
    });
  });
});
