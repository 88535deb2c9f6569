/**
 * RFC 9218 priorities over real loopback sockets: a node:http2 client's `priority` headers
 * decide the order of the DATA frames it receives from a sluice server, and the sluice client's
 * priority option and PRIORITY_UPDATE reach a sluice server.
 */
import { expect } from 'chai';
import { createServer, type Http2ServerListener, type ServerStream } from '../../../handlers/http2/api/server.js';
import { connect, type Http2Session } from '../../../handlers/http2/api/session.js';
import type { Http2Priority } from '../../../handlers/http2/connection/priority.js';
import { MiB, closeNode, connectNode, expectMessagePoolDrained, rejection } from './node-peer.js';
import { codeOf, thrownCode } from '../../support/error-codes.js';
import { until } from '../../support/waiting.js';

/** Bytes of each response: several DATA frames. */
const BODY_SIZE = 96 * 1024;

/** The requests, in the order the client sends them, with the `priority` header each carries. */
const REQUESTS: readonly { readonly name: string; readonly priority: string | null }[] = [
  { name: 'background', priority: 'u=6' },
  { name: 'script', priority: 'u=2' },
  { name: 'default', priority: null },
  { name: 'image-a', priority: 'u=1, i' },
  { name: 'image-b', priority: 'u=1, i' },
  { name: 'css', priority: 'u=0' },
];

/** `order` with runs of one name written once. */
const runs = (order: readonly string[]): string[] => order.filter((name, i) => i === 0 || order[i - 1] !== name);

/**
 * A sluice server that holds every response until all {@link REQUESTS} arrived, then answers
 * them all at once (so only the scheduler decides the order); it records each stream's priority.
 */
async function holdingServer(writeScheduler: 'rfc9218' | 'round-robin'): Promise<{
  listener: Http2ServerListener;
  priorities: Map<string, Http2Priority>;
}> {
  const arrived: ServerStream[] = [];
  const priorities = new Map<string, Http2Priority>();
  const server = createServer({ http2: { writeScheduler } }, (stream) => {
    arrived.push(stream);
    priorities.set(stream.path.slice(1), stream.priority);
    if (arrived.length < REQUESTS.length) return;
    for (const waiting of arrived) {
      waiting.respond(200, { 'content-type': 'application/octet-stream' });
      void waiting.end(Buffer.alloc(BODY_SIZE, 0x61));
    }
  });
  return { listener: await server.listen(), priorities };
}

/**
 * Sends {@link REQUESTS} from a node:http2 client with windows too large to matter; resolves with
 * the names of the DATA chunks in arrival order and the bytes of each response.
 */
async function receiveOrder(port: number): Promise<{ order: string[]; sizes: Map<string, number> }> {
  const session = await connectNode(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 16 * MiB } });
  session.setLocalWindowSize(64 * MiB);
  const order: string[] = [];
  const sizes = new Map<string, number>();
  let done = 0;
  try {
    for (const { name, priority } of REQUESTS) {
      const request = session.request({ ':path': `/${name}`, ...(priority === null ? {} : { priority }) });
      request.on('data', (chunk: Buffer) => {
        order.push(name);
        sizes.set(name, (sizes.get(name) ?? 0) + chunk.length);
      });
      request.on('end', () => done++);
      request.on('error', () => undefined);
      request.end();
    }
    await until(() => done === REQUESTS.length, 'every response');
  } finally {
    await closeNode(session);
  }
  return { order, sizes };
}

/** The request a {@link withHeldRequest} server received, and how to let its handler finish. */
interface HeldRequest {
  /** The last request the server received (resolves when one arrives). */
  readonly stream: Promise<ServerStream>;
  /** Lets the handlers past their `released` promise. */
  release(): void;
}

/**
 * Runs `test` with a sluice session to a sluice server whose handler is `handle(stream,
 * released)`, `released` resolving once the test calls `held.release()`; closes both after.
 */
async function withHeldRequest(
  handle: (stream: ServerStream, released: Promise<void>) => Promise<void>,
  test: (session: Http2Session, held: HeldRequest) => Promise<void>,
): Promise<void> {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let received: (stream: ServerStream) => void = () => undefined;
  const stream = new Promise<ServerStream>((resolve) => (received = resolve));
  const server = createServer(async (request) => {
    received(request);
    await handle(request, released);
  });
  const listener = await server.listen();
  const session = await connect(`http://127.0.0.1:${listener.port}`);
  try {
    await test(session, { stream, release });
  } finally {
    release();
    await session.close();
    await listener.close();
  }
}

describe('RFC 9218 priorities over loopback', function () {
  this.timeout(30_000);

  it('sends a node:http2 client its responses in priority order once all are due', async () => {
    const { listener, priorities } = await holdingServer('rfc9218');
    try {
      const { order, sizes } = await receiveOrder(listener.port);
      expect(Object.fromEntries(priorities)).to.deep.equal({
        background: { urgency: 6, incremental: false },
        script: { urgency: 2, incremental: false },
        default: { urgency: 3, incremental: false },
        'image-a': { urgency: 1, incremental: true },
        'image-b': { urgency: 1, incremental: true },
        css: { urgency: 0, incremental: false },
      });
      const sequence = runs(order);
      // css alone first (u=0); the two images share (u=1, incremental); then script, default, background.
      expect(sequence[0], sequence.join(' ')).to.equal('css');
      expect(sequence.slice(-3), sequence.join(' ')).to.deep.equal(['script', 'default', 'background']);
      const images = sequence.slice(1, -3);
      expect(new Set(images), sequence.join(' ')).to.deep.equal(new Set(['image-a', 'image-b']));
      expect(images.length, `the images take turns: ${sequence.join(' ')}`).to.be.at.least(4);
      for (const { name } of REQUESTS) expect(sizes.get(name), name).to.equal(BODY_SIZE);
    } finally {
      await listener.close();
    }
    await expectMessagePoolDrained();
  });

  it('interleaves the same responses with writeScheduler round-robin (the order above is the scheduler’s doing)', async () => {
    const { listener } = await holdingServer('round-robin');
    try {
      const sequence = runs((await receiveOrder(listener.port)).order);
      expect(sequence.slice(0, 6), sequence.join(' ')).to.deep.equal(REQUESTS.map((request) => request.name));
    } finally {
      await listener.close();
    }
  });

  it('lets a response change its priority while it arrives, and refuses bad priorities with their codes', async () => {
    await withHeldRequest(
      async (stream, released) => {
        expect(thrownCode(() => stream.setPriority({ urgency: 8 }))).to.equal('HTTP2_INVALID_ARGUMENT');
        stream.respond(200);
        await stream.write('first ');
        await released;
        await stream.end('last');
      },
      async (session, held) => {
        expect(codeOf(await rejection(session.request({}, { priority: { urgency: 1.5 } })))).to.equal(
          'HTTP2_INVALID_OPTIONS',
        );
        const response = await session.request({}, { path: '/', priority: { incremental: true } });
        const stream = await held.stream;
        expect(stream.priority).to.deep.equal({ urgency: 3, incremental: true });
        expect(thrownCode(() => response.setPriority({ urgency: -1 }))).to.equal('HTTP2_INVALID_ARGUMENT');
        response.setPriority({ urgency: 7 });
        await until(() => stream.priority.urgency === 7, 'the PRIORITY_UPDATE');
        expect(stream.priority).to.deep.equal({ urgency: 7, incremental: false });
        held.release();
        expect(await response.body.text()).to.equal('first last');
      },
    );
  });

  it('carries a sluice client’s priority option and PRIORITY_UPDATE to a sluice server', async () => {
    await withHeldRequest(
      async (stream, released) => {
        await released;
        stream.respond(200);
        await stream.end('ok');
      },
      async (session, held) => {
        const call = session.stream({}, { method: 'POST', path: '/', priority: { urgency: 5 } });
        const stream = await held.stream;
        expect(stream.priority).to.deep.equal({ urgency: 5, incremental: false });
        // The sluice server announced SETTINGS_NO_RFC7540_PRIORITIES = 1: the client sends the update.
        call.setPriority({ urgency: 0, incremental: true });
        await until(() => stream.priority.urgency === 0, 'the PRIORITY_UPDATE');
        expect(stream.priority).to.deep.equal({ urgency: 0, incremental: true });
        held.release();
        await call.end();
        expect(await (await call.response).body.text()).to.equal('ok');
      },
    );
  });
});
