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
  type SluiceError,
} from '../../../handlers/index.js';
import {
  TlsErrors,
  TlsHandler,
  alpnPipeline,
  tlsPipeline,
  type TlsClientOptions,
  type TlsServerOptions,
  type TlsStatistics,
} from '../../../handlers/tls/index.js';
import { AppEnd, EchoAppEnd } from '../../support/app-end.js';
import { ioTurns, until } from '../../support/waiting.js';
import { pem } from './tls-test-kit.js';
import { closeServer, listenOnLoopback } from '../../support/loopback.js';
import { sha256 } from '../../support/hashing.js';

const SIXTEEN_MIB = 16 * 1024 * 1024;

function tlsHandlerOf(channel: Channel): TlsHandler {
  for (const slot of channel.slots()) if (slot.handler instanceof TlsHandler) return slot.handler;
  throw new Error('no TlsHandler in the channel');
}

describe('TlsHandler over loopback', function () {
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
    // Every message the test's channels acquired went back to the pool.
    expect(group.loops[0].messagePool.outstanding).to.equal(0);
  });

  /** A node:tls server (the peer nobody here wrote); its sockets are cleaned up after the test. */
  async function nodeTlsServer(options: tls.TlsOptions, onSecure: (socket: tls.TLSSocket) => void): Promise<number> {
    const server = tls.createServer(options, (socket) => {
      peers.push(socket);
      socket.on('error', () => undefined);
      onSecure(socket);
    });
    server.on('tlsClientError', () => undefined);
    server.on('connection', (socket: net.Socket) => peers.push(socket));
    servers.push(server);
    return listenOnLoopback(server);
  }

  /** Connects a sluice client with `tls` options; `app` (if any) goes right of TLS once negotiated. */
  async function sluiceClient(port: number, options: TlsClientOptions, app?: AppEnd): Promise<Channel> {
    const clientOptions: TlsClientOptions =
      app === undefined || options.onNegotiated !== undefined
        ? options
        : { ...options, onNegotiated: (slot) => slot.insertRight(app) };
    const channel = await new ClientBootstrap({ loopGroup: group }).connect({
      host: '127.0.0.1',
      port,
      pipeline: tlsPipeline(clientOptions),
    });
    channels.push(channel);
    return channel;
  }

  /** A sluice server whose accepted channels are collected. */
  async function sluiceServer(options: TlsServerOptions): Promise<{ port: number; accepted: Channel[] }> {
    const accepted: Channel[] = [];
    const listener = await new ServerBootstrap({ loopGroup: group }).listen({
      host: '127.0.0.1',
      port: 0,
      pipeline: tlsPipeline(options),
      onAcceptSetup: (channel) => accepted.push(channel),
    });
    listeners.push(listener);
    return { port: listener.port, accepted };
  }

  /** A node:tls client; resolves once its 'close' fires with what it read, or its error. */
  function nodeTlsClient(
    port: number,
    options: tls.ConnectionOptions,
    send: (socket: tls.TLSSocket) => void,
  ): Promise<{ received: Buffer; error: Error | null; socket: tls.TLSSocket }> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let error: Error | null = null;
      const socket = tls.connect({ host: '127.0.0.1', port, ...options }, () => send(socket));
      peers.push(socket);
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', (failure: Error) => (error = failure));
      socket.on('close', () => resolve({ received: Buffer.concat(chunks), error, socket }));
    });
  }

  const clientOptions = (extra: Partial<TlsClientOptions> = {}): TlsClientOptions => ({
    role: 'client',
    ca: pem.ca,
    ...extra,
  });
  const serverOptions = (extra: Partial<TlsServerOptions> = {}): TlsServerOptions => ({
    role: 'server',
    cert: pem.serverCert,
    key: pem.serverKey,
    onNegotiated: alpnPipeline({}, { fallback: () => new EchoAppEnd({ isKeepingChunks: false }) }),
    ...extra,
  });

  describe('sluice client ↔ node:tls server', () => {
    it('echoes small messages and 16 MiB both ways byte-exact (SHA-256)', async () => {
      const port = await nodeTlsServer({ cert: pem.serverCert, key: pem.serverKey }, (socket) => socket.pipe(socket));
      const app = new AppEnd({ isKeepingChunks: false });
      const channel = await sluiceClient(port, clientOptions(), app);
      await until(() => app.slot !== null, 'the handshake');
      for (const word of ['a', 'bc', 'def']) app.write(Buffer.from(word));
      await until(() => app.bytesReceived === 6, 'small echoes');
      const payload = randomBytes(SIXTEEN_MIB);
      app.write(payload);
      await until(() => app.bytesReceived === 6 + SIXTEEN_MIB, '16 MiB echoed', 60_000);
      expect(app.digest()).to.equal(sha256(Buffer.concat([Buffer.from('abcdef'), payload])));
      expect(app.failedCompletions).to.equal(0);
      await until(() => tlsHandlerOf(channel).gatherStatistics().bytesOut > SIXTEEN_MIB, 'the ciphertext counters');
      const stats = tlsHandlerOf(channel).gatherStatistics();
      expect(stats.plaintextBytesIn).to.equal(6 + SIXTEEN_MIB);
      expect(stats.bytesIn).to.be.greaterThan(SIXTEEN_MIB);
    });

    it('completes plaintext writes only after their records were written, and flushes them on graceful shutdown', async () => {
      const received: Buffer[] = [];
      let isPeerEnded = false;
      const port = await nodeTlsServer({ cert: pem.serverCert, key: pem.serverKey }, (socket) => {
        socket.on('data', (chunk: Buffer) => received.push(chunk));
        socket.on('end', () => (isPeerEnded = true));
      });
      const app = new AppEnd();
      const channel = await sluiceClient(port, clientOptions(), app);
      await until(() => app.slot !== null, 'the handshake');
      const payload = randomBytes(1024 * 1024);
      const messageCount = app.write(payload);
      channel.shutdown();
      const error = await channel.whenShutdown;
      expect(error).to.equal(null);
      expect(app.completions).to.equal(messageCount);
      expect(app.failedCompletions).to.equal(0);
      await until(() => isPeerEnded, 'the peer to see close_notify / FIN');
      expect(sha256(Buffer.concat(received))).to.equal(sha256(payload));
    });

    it('reports statistics: protocol, version, cipher, handshake times on the loop clock', async () => {
      const port = await nodeTlsServer(
        { cert: pem.serverCert, key: pem.serverKey, ALPNProtocols: ['h2', 'x-test'] },
        () => undefined,
      );
      const app = new AppEnd();
      const channel = await sluiceClient(port, clientOptions({ ALPNProtocols: ['x-test'] }), app);
      await until(() => app.slot !== null, 'the handshake');
      const stats: TlsStatistics = tlsHandlerOf(channel).gatherStatistics();
      expect(stats).to.include({ category: 'tls', role: 'client', protocol: 'x-test', tlsVersion: 'TLSv1.3' });
      expect(stats.cipher).to.be.a('string').and.match(/^TLS_/);
      expect(stats.handshakeEndMs).to.be.a('number').and.at.least(stats.handshakeStartMs);
    });

    it('refuses a server certificate from an unknown CA with TLS_CERTIFICATE_UNTRUSTED', async () => {
      const port = await nodeTlsServer({ cert: pem.serverCert, key: pem.serverKey }, () => undefined);
      const channel = await sluiceClient(port, { role: 'client' }, new AppEnd());
      const error = await channel.whenShutdown;
      expect(error?.code).to.equal(TlsErrors.CERTIFICATE_UNTRUSTED.code);
      expect((error?.cause as { code?: string } | undefined)?.code).to.equal('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    });

    it('refuses a certificate for another name with TLS_CERTIFICATE_HOSTNAME_MISMATCH', async () => {
      const port = await nodeTlsServer({ cert: pem.serverCert, key: pem.serverKey }, () => undefined);
      const channel = await sluiceClient(port, clientOptions({ servername: 'other.test' }), new AppEnd());
      expect((await channel.whenShutdown)?.code).to.equal(TlsErrors.CERTIFICATE_HOSTNAME_MISMATCH.code);
    });

    it('accepts a certificate for an IP address SAN (no SNI sent)', async () => {
      let servername: string | false | null | undefined;
      const port = await nodeTlsServer(
        { cert: pem.serverCert, key: pem.serverKey },
        (socket) => (servername = socket.servername),
      );
      const app = new AppEnd();
      await sluiceClient(port, clientOptions({ servername: '127.0.0.1' }), app);
      await until(() => app.slot !== null && servername !== undefined, 'the handshake');
      expect(servername).to.equal(false);
    });

    it('picks the certificate by SNI on a node:tls server', async () => {
      const other = tls.createSecureContext({ cert: pem.otherServerCert, key: pem.otherServerKey });
      const port = await nodeTlsServer(
        {
          cert: pem.serverCert,
          key: pem.serverKey,
          SNICallback: (name, done) => done(null, name === 'other.test' ? other : undefined),
        },
        () => undefined,
      );
      const app = new AppEnd();
      const channel = await sluiceClient(port, clientOptions({ servername: 'other.test' }), app);
      await until(() => app.slot !== null, 'the handshake');
      expect(tlsHandlerOf(channel).peerCertificate?.subject).to.equal('CN=other.test');
    });

    it('fails with TLS_ALPN_MISMATCH when the server shares no protocol', async () => {
      const port = await nodeTlsServer(
        { cert: pem.serverCert, key: pem.serverKey, ALPNProtocols: ['http/1.1'] },
        () => undefined,
      );
      const channel = await sluiceClient(
        port,
        clientOptions({ ALPNProtocols: ['h2'], onNegotiated: alpnPipeline({ h2: () => new AppEnd() }) }),
      );
      expect((await channel.whenShutdown)?.code).to.equal(TlsErrors.ALPN_MISMATCH.code);
    });

    it('fails with TLS_ALPN_MISMATCH when no protocol was negotiated and there is no fallback', async () => {
      const port = await nodeTlsServer({ cert: pem.serverCert, key: pem.serverKey }, () => undefined);
      const channel = await sluiceClient(
        port,
        clientOptions({ ALPNProtocols: ['h2'], onNegotiated: alpnPipeline({ h2: () => new AppEnd() }) }),
      );
      const error = await channel.whenShutdown;
      expect(error?.code).to.equal(TlsErrors.ALPN_MISMATCH.code);
      expect(error?.message).to.match(/none negotiated/);
    });

    it('presents a client certificate to a server that requires one (mutual TLS)', async () => {
      let authorized: boolean | undefined;
      const port = await nodeTlsServer(
        { cert: pem.serverCert, key: pem.serverKey, ca: pem.ca, requestCert: true, rejectUnauthorized: true },
        (socket) => {
          authorized = socket.authorized;
          socket.pipe(socket);
        },
      );
      const app = new AppEnd();
      await sluiceClient(port, clientOptions({ cert: pem.clientCert, key: pem.clientKey }), app);
      await until(() => app.slot !== null, 'the handshake');
      app.write(Buffer.from('mutual'));
      await until(() => app.bytesReceived === 6, 'the echo');
      expect(authorized).to.equal(true);
    });

    it('fails with TLS_PEER_CERTIFICATE_REQUIRED when the server requires a client certificate and none is set', async () => {
      const port = await nodeTlsServer(
        { cert: pem.serverCert, key: pem.serverKey, ca: pem.ca, requestCert: true, rejectUnauthorized: true },
        () => undefined,
      );
      const channel = await sluiceClient(port, clientOptions(), new AppEnd());
      expect((await channel.whenShutdown)?.code).to.equal(TlsErrors.PEER_CERTIFICATE_REQUIRED.code);
    });

    it('fails with TLS_NEGOTIATION_TIMEOUT against a listener that never answers', async () => {
      const server = net.createServer((socket) => {
        peers.push(socket);
        socket.on('error', () => undefined);
      });
      servers.push(server);
      const channel = await sluiceClient(
        await listenOnLoopback(server),
        clientOptions({ negotiationTimeoutMs: 200 }),
        new AppEnd(),
      );
      expect((await channel.whenShutdown)?.code).to.equal(TlsErrors.NEGOTIATION_TIMEOUT.code);
    });

    it('delivers a large download byte-exact to a slow consumer while buffering a bounded amount', async () => {
      const download = randomBytes(4 * 1024 * 1024);
      const port = await nodeTlsServer({ cert: pem.serverCert, key: pem.serverKey }, (socket) =>
        socket.write(download),
      );
      // A 4 KiB window opened one read at a time, a turn later: far slower than the server.
      const app = new AppEnd({ window: 4096, windowOpening: 'later', isKeepingChunks: false });
      const channel = await sluiceClient(port, clientOptions(), app);
      const handler = tlsHandlerOf(channel);
      let maxCiphertext = 0;
      await until(
        () => {
          maxCiphertext = Math.max(maxCiphertext, handler.bufferedCiphertextBytes);
          return app.bytesReceived === download.length;
        },
        'the download',
        60_000,
      );
      expect(app.digest()).to.equal(sha256(download));
      // Plaintext: at most one decrypted chunk of ours plus Node's 16 KiB readable buffer and
      // one record; ciphertext: the handler's read window.
      expect(handler.maxBufferedPlaintextBytes).to.be.at.most(64 * 1024);
      expect(maxCiphertext).to.be.at.most(64 * 1024);
    });

    it('resumes a TLS session with the session from an earlier connection', async () => {
      // The first connection ends (its session ticket arrives before the close); the second
      // stays open, so its TLS slot is still there when the test reads the handler's statistics.
      let connections = 0;
      const port = await nodeTlsServer({ cert: pem.serverCert, key: pem.serverKey }, (socket) =>
        ++connections === 1 ? socket.end('x') : socket.write('x'),
      );
      const sessions: Buffer[] = [];
      const first = new AppEnd();
      const firstChannel = await sluiceClient(
        port,
        clientOptions({ onSession: (session) => sessions.push(session) }),
        first,
      );
      await firstChannel.whenShutdown;
      expect(sessions.length).to.be.greaterThan(0);
      const second = new AppEnd();
      const secondChannel = await sluiceClient(port, clientOptions({ session: sessions[sessions.length - 1] }), second);
      await until(() => second.slot !== null, 'the second handshake');
      expect(tlsHandlerOf(secondChannel).gatherStatistics().isSessionReused).to.equal(true);
    });
  });

  describe('node:tls client ↔ sluice server', () => {
    it('echoes small messages and 16 MiB both ways byte-exact (SHA-256)', async () => {
      const { port } = await sluiceServer(serverOptions());
      const payload = randomBytes(SIXTEEN_MIB);
      let echoed = 0;
      const result = await nodeTlsClient(port, { ca: pem.ca, servername: 'localhost' }, (socket) => {
        socket.write('hello');
        socket.on('data', (chunk: Buffer) => {
          echoed += chunk.length;
          if (echoed === 5) socket.write(payload);
          if (echoed === 5 + SIXTEEN_MIB) socket.end();
        });
      });
      expect(result.error).to.equal(null);
      expect(sha256(result.received)).to.equal(sha256(Buffer.concat([Buffer.from('hello'), payload])));
    });

    it('installs the handler for the negotiated ALPN protocol', async () => {
      const { port, accepted } = await sluiceServer(
        serverOptions({
          ALPNProtocols: ['h2', 'x-echo'],
          onNegotiated: alpnPipeline({ 'x-echo': () => new EchoAppEnd({ isKeepingChunks: false }) }),
        }),
      );
      const result = await nodeTlsClient(
        port,
        { ca: pem.ca, servername: 'localhost', ALPNProtocols: ['x-echo'] },
        (socket) => {
          socket.end('ping');
        },
      );
      expect(result.received.toString()).to.equal('ping');
      expect(tlsHandlerOf(accepted[0]).negotiatedProtocol).to.equal('x-echo');
    });

    it('shuts down with TLS_ALPN_MISMATCH when the negotiated protocol has no handler and there is no fallback', async () => {
      const { accepted, port } = await sluiceServer(
        serverOptions({
          ALPNProtocols: ['h2', 'x-other'],
          onNegotiated: alpnPipeline({ h2: () => new EchoAppEnd({ isKeepingChunks: false }) }),
        }),
      );
      await nodeTlsClient(port, { ca: pem.ca, servername: 'localhost', ALPNProtocols: ['x-other'] }, (socket) =>
        socket.write('never echoed'),
      );
      expect((await accepted[0].whenShutdown)?.code).to.equal(TlsErrors.ALPN_MISMATCH.code);
    });

    it('picks the certificate by SNI from `contexts`', async () => {
      const { port } = await sluiceServer(
        serverOptions({ contexts: { 'other.test': { cert: pem.otherServerCert, key: pem.otherServerKey } } }),
      );
      const subjects: string[] = [];
      for (const servername of ['other.test', 'localhost']) {
        const result = await nodeTlsClient(port, { ca: pem.ca, servername }, (socket) => {
          subjects.push(socket.getPeerX509Certificate()?.subject ?? '');
          socket.end();
        });
        expect(result.error).to.equal(null);
      }
      expect(subjects).to.deep.equal(['CN=other.test', 'CN=localhost']);
    });

    describe('mutual TLS', () => {
      const mutual = (): TlsServerOptions => serverOptions({ ca: pem.ca, requestCert: true });

      it('accepts a client certificate signed by the CA', async () => {
        const { port, accepted } = await sluiceServer(mutual());
        const result = await nodeTlsClient(
          port,
          { ca: pem.ca, servername: 'localhost', cert: pem.clientCert, key: pem.clientKey },
          (socket) => socket.end('with cert'),
        );
        expect(result.received.toString()).to.equal('with cert');
        expect(tlsHandlerOf(accepted[0]).peerCertificate?.subject).to.equal('CN=sluice test client');
      });

      it('refuses a client without a certificate with TLS_PEER_CERTIFICATE_REQUIRED', async () => {
        const { port, accepted } = await sluiceServer(mutual());
        const result = await nodeTlsClient(port, { ca: pem.ca, servername: 'localhost' }, (socket) =>
          socket.write('no cert'),
        );
        await until(() => accepted.length === 1, 'the accepted channel');
        expect((await accepted[0].whenShutdown)?.code).to.equal(TlsErrors.PEER_CERTIFICATE_REQUIRED.code);
        expect(result.received.length).to.equal(0);
      });

      it('refuses a client certificate from another CA with TLS_CLIENT_CERTIFICATE_REJECTED', async () => {
        const { port, accepted } = await sluiceServer(mutual());
        const result = await nodeTlsClient(
          port,
          { ca: pem.ca, servername: 'localhost', cert: pem.otherClientCert, key: pem.otherClientKey },
          (socket) => socket.write('wrong cert'),
        );
        await until(() => accepted.length === 1, 'the accepted channel');
        const error: SluiceError | null = await accepted[0].whenShutdown;
        expect(error?.code).to.equal(TlsErrors.CLIENT_CERTIFICATE_REJECTED.code);
        expect(result.received.length).to.equal(0);
      });
    });
  });
});
