import { expect } from 'chai';
import { IoErrors, SluiceError, VirtualEventLoop } from '../../../lib/index.js';
import {
  ErrorCode,
  Http2ConnectionError,
  Http2StreamError,
  type Http2Headers,
  type Http2RequestOptions,
  type Http2Stream,
  type Http2StreamFailure,
} from '../../../handlers/http2/index.js';
import {
  Http2StreamManager,
  SdkErrors,
  type ConnectionEvents,
  type Http2StreamManagerOptions,
  type StreamManagerConnection,
  type StreamManagerStream,
} from '../../../handlers/sdk/index.js';
import { ioTurns } from '../../support/waiting.js';

/** A stream of a {@link FakeConnection}; the test answers, refuses or fails it. */
class FakeStream implements StreamManagerStream {
  isEnded = false;
  readonly written: Uint8Array[] = [];
  resetCode = -1;
  constructor(
    readonly connection: FakeConnection,
    private readonly handler: NonNullable<Http2RequestOptions['handler']>,
    readonly headers: Http2Headers,
  ) {}
  private get self(): Http2Stream {
    return this as unknown as Http2Stream;
  }
  write(chunk: Uint8Array): boolean {
    this.written.push(chunk);
    return true;
  }
  end(): void {
    this.isEnded = true;
  }
  reset(errorCode: number = ErrorCode.CANCEL): void {
    this.resetCode = errorCode;
    this.close(new Http2StreamError(1, errorCode, 'reset'));
  }
  respond(status = 200): void {
    this.handler.onResponse?.(this.self, [':status', String(status)], false);
    this.handler.onData?.(this.self, Buffer.from('ok'), 0, 2);
    this.close(null);
  }
  refuse(): void {
    this.close(new Http2StreamError(1, ErrorCode.REFUSED_STREAM, 'refused', { retryable: true }));
  }
  close(error: Http2StreamFailure | null): void {
    this.connection.open.delete(this);
    this.handler.onClose?.(this.self, error);
  }
}

/** A connection the manager gets from the fake factory. */
class FakeConnection implements StreamManagerConnection {
  readonly peerSettings = { maxConcurrentStreams: 100 };
  readonly open = new Set<FakeStream>();
  readonly all: FakeStream[] = [];
  readonly pings: ((error: SluiceError | null, rttMs: number) => void)[] = [];
  closeCalls = 0;
  isAborted = false;
  private isClosed = false;
  constructor(
    readonly events: ConnectionEvents,
    limit: number,
  ) {
    this.peerSettings.maxConcurrentStreams = limit;
  }
  request(headers: Http2Headers, options: Http2RequestOptions): StreamManagerStream {
    const stream = new FakeStream(this, options.handler!, headers);
    this.open.add(stream);
    this.all.push(stream);
    return stream;
  }
  ping(callback: (error: SluiceError | null, rttMs: number) => void): void {
    this.pings.push(callback);
  }
  close(): Promise<SluiceError | null> {
    this.closeCalls++;
    if (this.open.size === 0) this.reportClose(null);
    return Promise.resolve(null);
  }
  /** Like `Http2Connection.abort`: open streams fail at once with the connection error. */
  abort(errorCode: number = ErrorCode.CANCEL, message = 'connection aborted by the application'): void {
    this.isAborted = true;
    const error = new Http2ConnectionError(errorCode, message);
    for (const stream of [...this.open]) stream.close(error);
    this.reportClose(error);
  }
  private reportClose(error: SluiceError | null): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.events.onClose(error);
  }
}

interface Harness {
  loop: VirtualEventLoop;
  manager: Http2StreamManager;
  connections: FakeConnection[];
  closed: (string | null)[];
  send: (count: number) => void;
}

const HEADERS: Http2Headers = [':method', 'GET', ':scheme', 'http', ':authority', 'kv.test', ':path', '/'];

function harness(
  options: Partial<Http2StreamManagerOptions> & { limit?: number; failConnect?: boolean } = {},
): Harness {
  const loop = new VirtualEventLoop();
  const connections: FakeConnection[] = [];
  const closed: (string | null)[] = [];
  const manager = new Http2StreamManager({
    host: 'kv.test',
    port: 80,
    loop,
    idlePingIntervalMs: 0,
    idleTimeoutMs: 0,
    ...options,
    connect: (events) => {
      if (options.failConnect === true) return Promise.reject(new SluiceError(IoErrors.CONNECTION_REFUSED));
      const connection = new FakeConnection(events, options.limit ?? 100);
      connections.push(connection);
      queueMicrotask(() => events.onRemoteSettings());
      return Promise.resolve(connection);
    },
  });
  const send = (count: number): void => {
    for (let i = 0; i < count; i++)
      manager.request({ headers: HEADERS, handler: { onClose: (error) => closed.push(error?.code ?? null) } });
  };
  return { loop, manager, connections, closed, send };
}

/** Lets the fake factory's promises and microtasks run. */
const settle = (): Promise<void> => ioTurns(5);

const loads = (connections: FakeConnection[]): number[] => connections.map((connection) => connection.open.size);

describe('Http2StreamManager', () => {
  it('opens connections on demand, one per idealConcurrency of waiting requests, up to maxConnections', async () => {
    const { manager, connections, send } = harness({ idealConcurrency: 2, maxConnections: 3 });
    expect(manager.metrics.connectionsConnecting).to.equal(0);
    send(5);
    expect(manager.metrics.connectionsConnecting).to.equal(3);
    await settle();
    expect(connections).to.have.length(3);
    expect(loads(connections).sort()).to.deep.equal([1, 2, 2]);
    expect(manager.metrics).to.include({
      connectionsOpen: 3,
      streamsActive: 5,
      streamsQueued: 0,
      connectionsOpened: 3,
    });
  });

  it('spreads streams to the least-loaded connection', async () => {
    const { connections, send } = harness({ idealConcurrency: 4, maxConnections: 2 });
    send(8);
    await settle();
    expect(loads(connections)).to.deep.equal([4, 4]);
    [...connections[0].open][0].respond();
    [...connections[0].open][0].respond();
    send(1);
    await settle();
    expect(loads(connections)).to.deep.equal([3, 4]);
  });

  it('fills connections to the peer MAX_CONCURRENT_STREAMS once no more may be opened, then queues', async () => {
    const { manager, connections, send, closed } = harness({ idealConcurrency: 1, maxConnections: 2, limit: 3 });
    send(8);
    await settle();
    expect(loads(connections)).to.deep.equal([3, 3]);
    expect(manager.metrics.streamsQueued).to.equal(2);
    [...connections[1].open][0].respond();
    expect(loads(connections)).to.deep.equal([3, 3]);
    expect(manager.metrics.streamsQueued).to.equal(1);
    expect(closed).to.deep.equal([null]);
  });

  it('bounds the queue (SDK_TOO_MANY_PENDING_ACQUISITIONS) and times waiting requests out (SDK_ACQUIRE_TIMEOUT)', async () => {
    const { loop, manager, send, closed } = harness({
      maxConnections: 1,
      limit: 1,
      maxPendingAcquisitions: 2,
      acquireTimeoutMs: 500,
    });
    send(1);
    await settle();
    send(2);
    expect(() => send(1))
      .to.throw(SluiceError)
      .with.property('code', SdkErrors.TOO_MANY_PENDING_ACQUISITIONS.code);
    loop.advance(499);
    expect(closed).to.deep.equal([]);
    loop.advance(1);
    expect(closed).to.deep.equal([SdkErrors.ACQUIRE_TIMEOUT.code, SdkErrors.ACQUIRE_TIMEOUT.code]);
    expect(manager.metrics.streamsActive).to.equal(1);
  });

  it('replaces a connection that received GOAWAY: in-flight streams finish there, new ones go to a fresh connection', async () => {
    const { manager, connections, send, closed } = harness({ maxConnections: 1 });
    send(2);
    await settle();
    const first = connections[0];
    first.events.onGoaway();
    send(1);
    await settle();
    expect(connections).to.have.length(2);
    expect(loads(connections)).to.deep.equal([2, 1]);
    for (const stream of [...first.open]) stream.respond();
    expect(first.closeCalls).to.equal(1);
    expect(closed).to.deep.equal([null, null]);
    expect(manager.metrics).to.include({ goawaysReceived: 1, connectionsOpen: 1 });
  });

  it('sends a retryably refused request again on another connection, transparently', async () => {
    const { manager, connections, closed } = harness({ maxConnections: 2, idealConcurrency: 1 });
    const body = Buffer.from('payload');
    manager.request({ headers: HEADERS, body, handler: { onClose: (error) => closed.push(error?.code ?? null) } });
    manager.request({ headers: HEADERS, handler: { onClose: (error) => closed.push(error?.code ?? null) } });
    await settle();
    const refused = [...connections[0].open][0];
    expect(refused.written).to.deep.equal([body]);
    refused.refuse();
    // Resent on the other connection, body and all.
    expect(loads(connections)).to.deep.equal([0, 2]);
    const resent = connections[1].all.find((stream) => stream.written.length === 1)!;
    expect(resent.isEnded).to.equal(true);
    resent.respond();
    expect(closed).to.deep.equal([null]);
    expect(manager.metrics.streamsRetried).to.equal(1);
  });

  it('gives up after maxStreamRetries refusals with the retryable error', async () => {
    const { connections, send, closed } = harness({ maxConnections: 1, maxStreamRetries: 2 });
    send(1);
    await settle();
    for (let i = 0; i < 3; i++) [...connections[0].open][0].refuse();
    expect(closed).to.deep.equal(['HTTP2_REFUSED_STREAM']);
  });

  it('culls a connection idle for idleTimeoutMs', async () => {
    const { loop, manager, connections, send } = harness({ idleTimeoutMs: 1000 });
    send(1);
    await settle();
    loop.advance(5000);
    expect(connections[0].closeCalls).to.equal(0);
    [...connections[0].open][0].respond();
    loop.advance(999);
    expect(connections[0].closeCalls).to.equal(0);
    loop.advance(1);
    expect(connections[0].closeCalls).to.equal(1);
    expect(manager.metrics).to.include({ connectionsCulled: 1, connectionsOpen: 0 });
  });

  it('pings idle connections and drops one that does not answer', async () => {
    const { loop, manager, connections, send } = harness({ idlePingIntervalMs: 100, pingTimeoutMs: 50 });
    send(1);
    await settle();
    [...connections[0].open][0].respond();
    const connection = connections[0];
    loop.advance(100);
    expect(connection.pings).to.have.length(1);
    connection.pings[0](null, 1);
    loop.advance(100);
    expect(connection.pings).to.have.length(2);
    expect(connection.isAborted).to.equal(false);
    loop.advance(50);
    expect(connection.isAborted).to.equal(true);
    expect(manager.metrics).to.include({ connectionsDead: 1, connectionsOpen: 0 });
  });

  it('fails a request sent while an idle PING is outstanding with SDK_CONNECTION_DEAD; a waiting one goes to a new connection', async () => {
    const { loop, manager, connections, send } = harness({
      maxConnections: 1,
      limit: 1,
      idlePingIntervalMs: 100,
      pingTimeoutMs: 50,
    });
    send(1);
    await settle();
    [...connections[0].open][0].respond();
    const dead = connections[0];
    loop.advance(100);
    expect(dead.pings).to.have.length(1);
    const errors: (SluiceError | null)[] = [];
    const handler = { onClose: (error: SluiceError | null) => errors.push(error) };
    manager.request({ headers: HEADERS, handler });
    // The peer allows one stream and no other connection may open: this one waits.
    manager.request({ headers: HEADERS, handler });
    expect(loads(connections)).to.deep.equal([1]);
    expect(manager.metrics.streamsQueued).to.equal(1);
    loop.advance(50);
    expect(dead.isAborted).to.equal(true);
    expect(errors).to.have.length(1);
    const error = errors[0]!;
    expect(error).to.be.instanceOf(SluiceError).with.property('code', SdkErrors.CONNECTION_DEAD.code);
    expect(error.cause).to.be.instanceOf(Http2ConnectionError).with.property('code', 'HTTP2_NO_ERROR');
    await settle();
    expect(connections).to.have.length(2);
    expect(loads(connections)).to.deep.equal([0, 1]);
    [...connections[1].open][0].respond();
    expect(errors).to.deep.equal([error, null]);
    expect(manager.metrics).to.include({ connectionsDead: 1, connectionsOpen: 1, streamsQueued: 0 });
  });

  it('fails waiting requests with the connect error when no connection is left', async () => {
    const { manager, send, closed } = harness({ failConnect: true });
    send(2);
    await settle();
    expect(closed).to.deep.equal([IoErrors.CONNECTION_REFUSED.code, IoErrors.CONNECTION_REFUSED.code]);
    expect(manager.metrics.connectFailures).to.equal(1);
  });

  it('cancels a waiting request and resets a sent one with the caller error', async () => {
    const { manager, connections, closed } = harness({ maxConnections: 1, limit: 1 });
    const handler = { onClose: (error: SluiceError | null) => closed.push(error?.code ?? null) };
    const sent = manager.request({ headers: HEADERS, handler });
    const waiting = manager.request({ headers: HEADERS, handler });
    await settle();
    waiting.cancel(new SluiceError(SdkErrors.REQUEST_ABORTED));
    sent.cancel(new SluiceError(SdkErrors.FIRST_BYTE_TIMEOUT));
    expect(connections[0].all[0].resetCode).to.equal(ErrorCode.CANCEL);
    expect(closed).to.deep.equal([SdkErrors.REQUEST_ABORTED.code, SdkErrors.FIRST_BYTE_TIMEOUT.code]);
  });

  it('closes: waiting requests fail with SDK_MANAGER_CLOSED, connections close', async () => {
    const { manager, connections, send, closed } = harness({ maxConnections: 1, limit: 1 });
    send(2);
    await settle();
    const closing = manager.close();
    expect(closed).to.deep.equal([SdkErrors.MANAGER_CLOSED.code]);
    [...connections[0].open][0].respond();
    void connections[0].close();
    await closing;
    expect(() => send(1))
      .to.throw(SluiceError)
      .with.property('code', SdkErrors.MANAGER_CLOSED.code);
  });
});
