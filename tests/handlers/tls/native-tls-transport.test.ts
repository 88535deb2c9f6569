import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import {
  ClientBootstrap,
  EventLoopGroup,
  ServerBootstrap,
  type Channel,
  type Listener,
} from '../../../handlers/index.js';
import {
  TlsErrors,
  alpnPipeline,
  nativeTlsTransport,
  type TlsClientOptions,
  type TlsServerOptions,
} from '../../../handlers/tls/index.js';
import { AppEnd, EchoAppEnd } from '../../support/app-end.js';
import { ioTurns, until } from '../../support/waiting.js';
import { pem } from './tls-test-kit.js';
import { closeServer, listenOnLoopback } from '../../support/loopback.js';
import { sha256 } from '../../support/hashing.js';

describe('nativeTlsTransport over loopback', function () {
  let group: EventLoopGroup;
  let channels: Channel[];
  let listeners: Listener[];
  let servers: net.Server[];
  let peers: net.Socket[];

  beforeEach(() => {
    group = new EventLoopGroup();
    channels = [];
    listeners = [];
    servers = [];
    peers = [];
  });

  afterEach(async () => {
    for (const channel of channels) channel.shutdown(null, true);
    await Promise.all(channels.map((channel) => channel.whenShutdown));
    await Promise.all(listeners.map((listener) => listener.close()));
    for (const socket of peers) socket.destroy();
    await Promise.all(servers.map(closeServer));
    await ioTurns(2);
    expect(group.loops[0].messagePool.outstanding).to.equal(0);
  });

  async function listen(server: net.Server): Promise<number> {
    servers.push(server);
    return listenOnLoopback(server);
  }

  async function nativeClient(port: number, options: TlsClientOptions): Promise<Channel> {
    const channel = await new ClientBootstrap({ loopGroup: group, transport: nativeTlsTransport(options) }).connect({
      host: '127.0.0.1',
      port,
    });
    channels.push(channel);
    return channel;
  }

  it('echoes 1 MiB byte-exact through a node:tls server', async () => {
    const server = tls.createServer({ cert: pem.serverCert, key: pem.serverKey }, (socket) => {
      peers.push(socket);
      socket.pipe(socket);
    });
    const port = await listen(server);
    const app = new AppEnd({ isKeepingChunks: false });
    await nativeClient(port, { role: 'client', ca: pem.ca, onNegotiated: (slot) => slot.insertRight(app) });
    await until(() => app.slot !== null, 'the handshake');
    const payload = randomBytes(1024 * 1024);
    app.write(payload);
    await until(() => app.bytesReceived === payload.length, 'the echo');
    expect(app.digest()).to.equal(sha256(payload));
  });

  it('refuses an untrusted server with TLS_CERTIFICATE_UNTRUSTED', async () => {
    const server = tls.createServer({ cert: pem.serverCert, key: pem.serverKey }, (socket) => peers.push(socket));
    server.on('tlsClientError', () => undefined);
    const port = await listen(server);
    const channel = await nativeClient(port, { role: 'client' });
    expect((await channel.whenShutdown)?.code).to.equal(TlsErrors.CERTIFICATE_UNTRUSTED.code);
  });

  it('fails with TLS_NEGOTIATION_TIMEOUT against a listener that never answers', async () => {
    const port = await listen(net.createServer((socket) => peers.push(socket)));
    const channel = await nativeClient(port, { role: 'client', ca: pem.ca, negotiationTimeoutMs: 200 });
    expect((await channel.whenShutdown)?.code).to.equal(TlsErrors.NEGOTIATION_TIMEOUT.code);
  });

  it('serves mutual TLS: accepts the CA-signed client and refuses another CA with TLS_CLIENT_CERTIFICATE_REJECTED', async () => {
    const accepted: Channel[] = [];
    const options: TlsServerOptions = {
      role: 'server',
      cert: pem.serverCert,
      key: pem.serverKey,
      ca: pem.ca,
      requestCert: true,
      onNegotiated: alpnPipeline({}, { fallback: () => new EchoAppEnd({ isKeepingChunks: false }) }),
    };
    const listener = await new ServerBootstrap({ loopGroup: group, transport: nativeTlsTransport(options) }).listen({
      host: '127.0.0.1',
      port: 0,
      onAcceptSetup: (channel) => accepted.push(channel),
    });
    listeners.push(listener);
    const talk = (cert: Buffer, key: Buffer): Promise<Buffer> =>
      new Promise((resolve) => {
        const chunks: Buffer[] = [];
        const socket = tls.connect(
          { host: '127.0.0.1', port: listener.port, servername: 'localhost', ca: pem.ca, cert, key },
          () => socket.end('hi'),
        );
        peers.push(socket);
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(Buffer.concat(chunks)));
      });
    expect((await talk(pem.clientCert, pem.clientKey)).toString()).to.equal('hi');
    expect((await talk(pem.otherClientCert, pem.otherClientKey)).length).to.equal(0);
    await until(() => accepted.length === 2, 'both channels');
    expect((await accepted[1].whenShutdown)?.code).to.equal(TlsErrors.CLIENT_CERTIFICATE_REJECTED.code);
  });
});
