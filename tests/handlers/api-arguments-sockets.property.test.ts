/**
 * The entry points that open sockets — the bootstraps' `connect` and `listen`, the SDK `Client`
 * and its methods — called with arbitrary arguments (fast-check's `anything`): each succeeds, or
 * throws or rejects a `SluiceError` whose code docs/errors.md lists (issue 18, item 8). Over
 * loopback only: a `listen` that succeeds binds 127.0.0.1 on a free port and is closed at once;
 * a `connect` needs a port, which arbitrary objects never carry by chance.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  Client,
  ClientBootstrap,
  ServerBootstrap,
  SluiceError,
  type Channel,
  type Listener,
} from '../../handlers/index.js';
import { createServer } from '../../handlers/http2/index.js';
import { documentedErrorCodes } from '../support/error-codes.js';

const DOCUMENTED = new Set(documentedErrorCodes());
const ARGUMENTS = fc.array(fc.anything({ withNullPrototype: true, withBoxedValues: true }), { maxLength: 2 });

/** What `call` gave: its value, or the documented SluiceError it failed with (anything else fails the test). */
async function settle(what: string, args: unknown[], call: () => unknown): Promise<unknown> {
  try {
    return await call();
  } catch (error) {
    const shown = `${what}(${args.map((arg) => fc.stringify(arg)).join(', ')})`;
    expect(error, `${shown} threw ${String(error)}`).to.be.instanceOf(SluiceError);
    expect(
      DOCUMENTED.has((error as SluiceError).code),
      `${shown}: ${(error as SluiceError).code} is listed in docs/errors.md`,
    ).to.equal(true);
    return null;
  }
}

describe('socket entry points with arbitrary arguments: success or a documented SluiceError (fast-check)', function () {
  this.timeout(60_000);

  it('ClientBootstrap.connect', async () => {
    await fc.assert(
      fc.asyncProperty(ARGUMENTS, async (args) => {
        const bootstrap = new ClientBootstrap();
        const connect = bootstrap.connect.bind(bootstrap) as (...a: unknown[]) => Promise<Channel>;
        const channel = (await settle('connect', args, () => connect(...args))) as Channel | null;
        channel?.shutdown(null, true);
      }),
      { numRuns: 100 },
    );
  });

  it('ServerBootstrap.listen (what binds is closed at once)', async () => {
    await fc.assert(
      fc.asyncProperty(ARGUMENTS, async (args) => {
        const bootstrap = new ServerBootstrap();
        const listen = bootstrap.listen.bind(bootstrap) as (...a: unknown[]) => Promise<Listener>;
        const listener = (await settle('listen', args, () => listen(...args))) as Listener | null;
        if (listener !== null) {
          expect(listener.port, 'bound to a port').to.be.a('number');
          await listener.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('new Client(…)', async () => {
    await fc.assert(
      fc.asyncProperty(ARGUMENTS, async (args) => {
        const AnyClient = Client as unknown as new (...a: unknown[]) => Client;
        const client = (await settle('new Client', args, () => new AnyClient(...args))) as Client | null;
        await client?.close();
      }),
      { numRuns: 100 },
    );
  });

  describe('Client methods against a live server', () => {
    let listener: Awaited<ReturnType<ReturnType<typeof createServer>['listen']>>;
    let client: Client;

    before(async () => {
      listener = await createServer(async (stream) => {
        stream.respond(200);
        await stream.end('ok');
      }).listen({ host: '127.0.0.1', port: 0 });
      client = new Client({ origin: `http://127.0.0.1:${listener.port}`, protocol: 'h2' });
    });
    after(async () => {
      await client.close();
      await listener.close();
    });

    for (const method of ['request', 'stream'] as const) {
      it(`Client.${method}`, async () => {
        await fc.assert(
          fc.asyncProperty(ARGUMENTS, async (args) => {
            const result = await settle(`client.${method}`, args, () =>
              (client[method] as (...a: unknown[]) => Promise<unknown>).apply(client, args),
            );
            // A response that arrived: read it to the end so nothing is left open.
            const body = (result as { body?: unknown } | null)?.body;
            if (body !== undefined && typeof (body as { text?: unknown }).text === 'function')
              await (body as { text(): Promise<string> }).text().catch(() => '');
          }),
          { numRuns: 50 },
        );
      });
    }
  });
});
