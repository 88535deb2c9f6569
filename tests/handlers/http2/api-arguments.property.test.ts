/**
 * Every method of the stream and session objects a user holds — the low-level `Http2Stream`, the
 * convenient `ServerStream` and `Http2Session` — called with arbitrary arguments (fast-check's
 * `anything`): the call succeeds, or it throws or rejects a `SluiceError` whose code docs/errors.md
 * lists, and a refused call writes no frame (issue 18, item 8). On the testing channel: no socket,
 * no time, every byte written is seen.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { inspect } from 'node:util';
import { SluiceError, systemClock } from '../../../lib/index.js';
import { Http2Session } from '../../../handlers/http2/api/session.js';
import { ServerStream } from '../../../handlers/http2/api/server.js';
import { documentedErrorCodes } from '../../support/error-codes.js';
import { POST, clientHarness, frameNames, serverHarness, type Harness } from './peer.js';
import type { Http2Connection } from '../../../handlers/http2/connection/http2-connection.js';

const DOCUMENTED = new Set(documentedErrorCodes());
const ARGUMENTS = fc.array(fc.anything({ withNullPrototype: true, withBoxedValues: true }), { maxLength: 3 });

/** The public methods of each object (private TypeScript methods are on the prototype too, so they are named). */
const PUBLIC_METHODS = {
  Http2Stream: [
    'sendHeaders',
    'write',
    'end',
    'reset',
    'holdConcurrencySlot',
    'releaseConcurrencySlot',
    'updateWindow',
  ],
  ServerStream: ['respond', 'informational', 'write', 'end', 'send', 'reset'],
  Http2Session: ['request', 'stream', 'ping', 'close', 'destroy'],
} as const;

/**
 * Calls `method` on the object `make` builds with `args`; judges what happened from the outside:
 * a failure must be a documented SluiceError, and when the call was refused nothing was written.
 */
async function judgeCall<C extends Http2Connection>(
  h: Harness<C>,
  target: object,
  method: string,
  args: unknown[],
): Promise<void> {
  h.written(); // what set-up wrote is not the call's
  let failure: unknown = null;
  try {
    const result: unknown = (target as Record<string, (...parameters: unknown[]) => unknown>)[method](...args);
    if (result instanceof Promise) await Promise.race([result, new Promise((resolve) => setImmediate(resolve))]);
  } catch (error) {
    failure = error;
  }
  if (failure === null) return;
  expect(
    failure,
    `${method}(${args.map((arg) => fc.stringify(arg)).join(', ')}) threw ${inspect(failure)}`,
  ).to.be.instanceOf(SluiceError);
  const code = (failure as SluiceError).code;
  expect(DOCUMENTED.has(code), `${method}: ${code} is listed in docs/errors.md`).to.equal(true);
  expect(
    frameNames(h.written()),
    `${method}(${args.map((arg) => fc.stringify(arg)).join(', ')}) was refused (${code}) but wrote`,
  ).to.deep.equal([]);
}

describe('API methods with arbitrary arguments: a coded error or success, and nothing written when refused (fast-check)', function () {
  this.timeout(60_000);

  /** A server stream the peer opened with a POST (so every sending method applies). */
  function serverStream(): {
    h: ReturnType<typeof serverHarness>;
    stream: ReturnType<typeof serverHarness>['received'][number]['stream'];
  } {
    const h = serverHarness();
    h.exchange(h.peer.headers(1, POST));
    return { h, stream: h.received[0].stream };
  }

  for (const method of PUBLIC_METHODS.Http2Stream) {
    it(`Http2Stream.${method}`, async () => {
      await fc.assert(
        fc.asyncProperty(ARGUMENTS, async (args) => {
          const { h, stream } = serverStream();
          await judgeCall(h, stream, method, args);
        }),
        { numRuns: 100 },
      );
    });
  }

  for (const method of PUBLIC_METHODS.ServerStream) {
    it(`ServerStream.${method}`, async () => {
      await fc.assert(
        fc.asyncProperty(ARGUMENTS, async (args) => {
          const { h, stream } = serverStream();
          await judgeCall(h, new ServerStream(stream, POST, false, systemClock), method, args);
        }),
        { numRuns: 100 },
      );
    });
  }

  for (const method of PUBLIC_METHODS.Http2Session) {
    it(`Http2Session.${method}`, async () => {
      await fc.assert(
        fc.asyncProperty(ARGUMENTS, async (args) => {
          const h = clientHarness();
          await judgeCall(h, new Http2Session(h.conn, 'http', 'example.test'), method, args);
        }),
        { numRuns: 100 },
      );
    });
  }

  it('covers every public method the objects have', () => {
    const { stream } = serverStream();
    const objects: [string, object][] = [
      ['Http2Stream', stream],
      ['ServerStream', new ServerStream(stream, POST, false, null)],
      ['Http2Session', new Http2Session(clientHarness().conn, 'http', 'example.test')],
    ];
    for (const [name, object] of objects) {
      for (const method of PUBLIC_METHODS[name as keyof typeof PUBLIC_METHODS]) {
        expect(typeof (object as Record<string, unknown>)[method], `${name}.${method}`).to.equal('function');
      }
    }
  });
});
