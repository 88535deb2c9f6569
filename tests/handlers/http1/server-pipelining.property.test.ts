/**
 * A property of the server connection: whatever the requests (bodies by length or chunked,
 * with or without trailers), however the bytes are split, however small the pipelining bound
 * and the read window, and in whatever order the application answers, every request reaches the
 * application once with its body intact, responses go out in request order, and the message pool
 * ends balanced.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { TestingChannel } from '../../../lib/index.js';
import { Http1ServerConnection, MessageParser, type Http1ServerStream } from '../../../handlers/http1/index.js';

interface RequestSpec {
  body: Uint8Array;
  isChunked: boolean;
  /** Answer at once when the body ends, or later (shuffled). */
  isAnsweredLater: boolean;
}

const requestSpec = fc.record({
  body: fc.uint8Array({ maxLength: 3000 }),
  isChunked: fc.boolean(),
  isAnsweredLater: fc.boolean(),
});

function encode(specs: readonly RequestSpec[]): Buffer {
  const parts: Buffer[] = [];
  specs.forEach((spec, index) => {
    const body = Buffer.from(spec.body);
    if (spec.isChunked) {
      parts.push(Buffer.from(`POST /${index} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n`));
      for (let offset = 0; offset < body.length; offset += 700) {
        const piece = body.subarray(offset, offset + 700);
        parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
      }
      parts.push(Buffer.from(`0\r\nx-index: ${index}\r\n\r\n`));
    } else {
      parts.push(Buffer.from(`POST /${index} HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n`), body);
    }
  });
  return Buffer.concat(parts);
}

/** Parses the responses written, returning each body. */
function responseBodies(written: Buffer): Buffer[] {
  const bodies: Buffer[] = [];
  let current: Buffer[] = [];
  const parser = new MessageParser('response', {
    onField: () => {},
    onHeadComplete: () => {},
    onBody: (data, start, end) => current.push(Buffer.from(data.subarray(start, end))),
    onTrailerField: () => {},
    onMessageComplete: () => {
      bodies.push(Buffer.concat(current));
      current = [];
    },
  });
  parser.execute(written);
  return bodies;
}

describe('http1 Http1ServerConnection pipelining (property)', () => {
  it('answers every request in order with its body intact, whatever the splits, bounds and answer order', () => {
    fc.assert(
      fc.property(
        fc.array(requestSpec, { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        (specs, cuts, maxPipelinedRequests, isManualWindow) => {
          const received: Buffer[][] = [];
          const later: (() => void)[] = [];
          const connection = new Http1ServerConnection({
            maxPipelinedRequests,
            isManualWindow,
            readWindowSize: 1024,
            onRequest: (stream: Http1ServerStream) => {
              const index = Number(stream.target.slice(1));
              const chunks: Buffer[] = (received[index] = []);
              stream.handler = {
                onData: (s, data, start, end) => {
                  chunks.push(Buffer.from(data.subarray(start, end)));
                  s.updateWindow(end - start);
                },
                onEnd: () => {
                  const answer = (): void => {
                    // Echo the body in a chunked response: one write per received piece.
                    stream.respond(200);
                    for (const chunk of chunks) stream.write(chunk);
                    stream.end();
                  };
                  if (specs[index].isAnsweredLater) later.push(answer);
                  else answer();
                },
              };
            },
          });
          const test = new TestingChannel([connection], { autoCompleteWrites: true });
          const bytes = encode(specs);
          let offset = 0;
          for (let i = 0; offset < bytes.length; i++) {
            const size = cuts[i % cuts.length];
            test.pushRead(bytes.subarray(offset, offset + size));
            offset += size;
            // Answer the deferred ones from the newest: out of request order.
            while (later.length > 0 && i % 2 === 1) later.pop()!();
            test.runUntilIdle();
          }
          for (let round = 0; round < 100 && (later.length > 0 || received.length < specs.length); round++) {
            while (later.length > 0) later.pop()!();
            test.runUntilIdle();
          }
          expect(received.length).to.equal(specs.length);
          specs.forEach((spec, index) =>
            expect(Buffer.concat(received[index]).equals(Buffer.from(spec.body))).to.equal(true),
          );
          const bodies = responseBodies(test.takeWritten());
          expect(bodies.length).to.equal(specs.length);
          specs.forEach((spec, index) => expect(bodies[index].equals(Buffer.from(spec.body))).to.equal(true));
          expect(test.isShutDown).to.equal(false);
          test.shutdown();
          expect(test.messagePool.outstanding).to.equal(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
