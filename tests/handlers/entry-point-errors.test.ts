/**
 * The entry points issue 18 (item 8) found throwing bare TypeErrors or Node's own errors: each
 * gives a `SluiceError` with a stable code listed in docs/errors.md, before anything is sent or
 * bound, and what it was called on keeps working.
 */
import { expect } from 'chai';
import {
  ClientBootstrap,
  Client,
  Http2ApiErrors,
  Http2SessionErrors,
  IoErrors,
  ServerBootstrap,
  SluiceError,
  type ServerStream,
} from '../../handlers/index.js';
import { connect, createServer } from '../../handlers/http2/index.js';
import { documentedErrorCodes } from '../support/error-codes.js';
import { until } from '../support/waiting.js';

/** What `action` threw or rejected with; fails when it did neither. */
async function failureOf(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  return expect.fail('expected a failure');
}

async function expectCode(action: () => unknown, code: string): Promise<void> {
  const error = await failureOf(action);
  expect(error, String(error)).to.be.instanceOf(SluiceError);
  expect((error as SluiceError).code).to.equal(code);
  expect(documentedErrorCodes(), `${code} is listed in docs/errors.md`).to.include(code);
}

describe('entry points give coded errors (issue 18, item 8)', () => {
  it('new Client() without options: IO_INVALID_OPTIONS; an origin that is no URL: IO_INVALID_URL, like connect()', async () => {
    await expectCode(() => new (Client as unknown as new () => Client)(), IoErrors.INVALID_OPTIONS.code);
    await expectCode(() => new Client({ origin: 'not a url' }), IoErrors.INVALID_URL.code);
    await expectCode(() => connect('not a url'), IoErrors.INVALID_URL.code);
    await expectCode(() => connect(42 as unknown as string), IoErrors.INVALID_URL.code);
    await expectCode(() => connect('ftp://files.test'), Http2SessionErrors.UNSUPPORTED_SCHEME.code);
    await expectCode(() => new Client({ origin: 'ftp://files.test' }), Http2SessionErrors.UNSUPPORTED_SCHEME.code);
  });

  it('bootstraps: listen on port -1, connect with no port: IO_INVALID_OPTIONS, nothing bound or dialled', async () => {
    await expectCode(() => new ServerBootstrap().listen({ port: -1 }), IoErrors.INVALID_OPTIONS.code);
    await expectCode(() => new ServerBootstrap().listen({ port: 70_000 }), IoErrors.INVALID_OPTIONS.code);
    await expectCode(() => createServer(() => undefined).listen({ port: 1.5 }), IoErrors.INVALID_OPTIONS.code);
    let setupError: unknown = null;
    await expectCode(
      () => new ClientBootstrap().connect({ onSetup: (error) => (setupError = error) }),
      IoErrors.INVALID_OPTIONS.code,
    );
    expect((setupError as SluiceError | null)?.code).to.equal(IoErrors.INVALID_OPTIONS.code);
    await expectCode(
      () => new ClientBootstrap().connect({ host: '127.0.0.1', port: 0 }),
      IoErrors.INVALID_OPTIONS.code,
    );
  });

  describe('over a connection (node-free: sluice both ends, loopback)', () => {
    const seen: Record<string, string> = {};
    let listener: Awaited<ReturnType<ReturnType<typeof createServer>['listen']>>;

    before(async () => {
      listener = await createServer(async (stream: ServerStream) => {
        const attempt = (name: string, action: () => void): void => {
          try {
            action();
            seen[name] = 'ok';
          } catch (error) {
            seen[name] = (error as SluiceError).code ?? String(error);
          }
        };
        if (stream.path === '/bad-headers') {
          attempt("respond('200')", () => stream.respond('200' as unknown as number));
          attempt("respond(200, { 'x-o': { a: 1 } })", () =>
            stream.respond(200, { 'x-o': { a: 1 } as unknown as string }),
          );
          stream.respond(200);
          await stream.end('still answerable');
          return;
        }
        await stream.end('done');
        seen['write after end'] = await stream.write('more').then(
          () => 'ok',
          (error: SluiceError) => error.code,
        );
      }).listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await listener.close();
    });

    it("respond('200') and a header value that is an object: HTTP2_INVALID_HEADERS, and the stream can still respond", async () => {
      const session = await connect(`http://127.0.0.1:${listener.port}`);
      try {
        const response = await session.request({ ':path': '/bad-headers' });
        expect(await response.body.text()).to.equal('still answerable');
        expect(seen["respond('200')"]).to.equal(Http2ApiErrors.INVALID_HEADERS.code);
        expect(seen["respond(200, { 'x-o': { a: 1 } })"]).to.equal(Http2ApiErrors.INVALID_HEADERS.code);
      } finally {
        await session.close();
      }
    });

    it('request(null): HTTP2_INVALID_HEADERS and the session goes on; body.text() after cancel says it was canceled', async () => {
      const session = await connect(`http://127.0.0.1:${listener.port}`);
      try {
        await expectCode(
          () => session.request(null as unknown as Record<string, string>),
          Http2ApiErrors.INVALID_HEADERS.code,
        );
        const response = await session.request({ ':path': '/' });
        response.body.cancel();
        const error = await failureOf(() => response.body.text());
        expect((error as SluiceError).code).to.equal(Http2SessionErrors.BODY_USED.code);
        expect((error as SluiceError).message).to.match(/canceled/);
        const next = await session.request({ ':path': '/' });
        expect(await next.body.text()).to.equal('done');
      } finally {
        await session.close();
      }
    });

    it('write after end: an HTTP/2 stream code, not a channel one', async () => {
      const session = await connect(`http://127.0.0.1:${listener.port}`);
      try {
        await (await session.request({ ':path': '/' })).body.text();
        await until(() => seen['write after end'] !== undefined, 'the write after end to be reported', 200);
        expect(seen['write after end']).to.be.oneOf(['HTTP2_WRITE_AFTER_END', 'HTTP2_STREAM_CLOSED']);
      } finally {
        await session.close();
      }
    });
  });
});
