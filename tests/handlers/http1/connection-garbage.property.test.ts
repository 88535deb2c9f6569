/**
 * Nothing a peer sends can throw out of the HTTP/1.1 connections or leak a pooled message:
 * valid traffic with random bytes spliced in, split at random, against the server (which answers
 * every request it sees) and the client (with one request in flight).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { TestingChannel } from '../../../lib/index.js';
import { Http1ClientConnection, Http1ServerConnection } from '../../../handlers/http1/index.js';

const REQUESTS =
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n' +
  'POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx: y\r\n\r\n' +
  'PUT /c HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nwxyz' +
  'GET /d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';
const RESPONSES =
  'HTTP/1.1 100 Continue\r\n\r\n' +
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' +
  'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc';

/** The traffic with `insert` spliced in at `at` and `cut` bytes removed there. */
function mutate(traffic: string, at: number, cut: number, insert: Uint8Array): Buffer {
  const bytes = Buffer.from(traffic, 'latin1');
  const position = at % (bytes.length + 1);
  return Buffer.concat([bytes.subarray(0, position), Buffer.from(insert), bytes.subarray(position + cut)]);
}

function feed(test: TestingChannel, bytes: Buffer, cuts: readonly number[]): void {
  let offset = 0;
  for (let i = 0; offset < bytes.length && !test.isShutDown; i++) {
    const size = cuts[i % cuts.length];
    test.pushRead(bytes.subarray(offset, offset + size));
    offset += size;
  }
}

const mutation = fc.tuple(
  fc.nat(),
  fc.integer({ min: 0, max: 8 }),
  fc.uint8Array({ maxLength: 16 }),
  fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
);

describe('http1 connections against garbage (property)', () => {
  it('the server answers or closes with a coded error, never throws, and leaks no message', () => {
    fc.assert(
      fc.property(mutation, ([at, cut, insert, cuts]) => {
        const connection = new Http1ServerConnection({
          onRequest: (stream) => {
            stream.handler = {
              onData: () => {},
              onEnd: () => stream.respond(200, ['content-length', '0'], true),
            };
          },
        });
        const test = new TestingChannel([connection], { autoCompleteWrites: true });
        feed(test, mutate(REQUESTS, at, cut, insert), cuts);
        const error = test.shutdownError;
        if (error !== null) expect(error.code).to.match(/^(HTTP1_|IO_)/);
        test.shutdown();
        expect(test.messagePool.outstanding).to.equal(0);
      }),
      { numRuns: 300 },
    );
  });

  it('the client reads or fails its exchange with a coded error, never throws, and leaks no message', () => {
    fc.assert(
      fc.property(mutation, ([at, cut, insert, cuts]) => {
        const connection = new Http1ClientConnection({ host: 'h' });
        const test = new TestingChannel([connection], { autoCompleteWrites: true });
        let closedWith: string | null = null;
        connection.request('GET', '/', [], {
          isEndStream: true,
          handler: { onClose: (_s, error) => (closedWith = error?.code ?? 'ok') },
        });
        test.runUntilIdle();
        feed(test, mutate(RESPONSES, at, cut, insert), cuts);
        test.shutdown();
        expect(closedWith).to.match(/^(ok|HTTP1_|IO_|CHANNEL_)/);
        expect(test.messagePool.outstanding).to.equal(0);
      }),
      { numRuns: 300 },
    );
  });
});
