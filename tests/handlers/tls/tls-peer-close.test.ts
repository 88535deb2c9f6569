import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { ClientBootstrap, EventLoopGroup, IoErrors, type Channel } from '../../../handlers/index.js';
import { TlsErrors, tlsPipeline } from '../../../handlers/tls/index.js';
import { AppEnd } from '../../support/app-end.js';
import { until } from '../../support/waiting.js';
import { pem } from './tls-test-kit.js';
import { listenOnLoopback } from '../../support/loopback.js';
import { sha256 } from '../../support/hashing.js';

/**
 * Connects a TLS client channel to `server` with an application that reads slowly, waits until
 * the channel shut down, and checks it received exactly `payload`.
 */
async function readUntilShutdown(
  server: net.Server,
  payload: Buffer,
): Promise<{ channel: Channel; group: EventLoopGroup }> {
  await listenOnLoopback(server);
  const group = new EventLoopGroup();
  const app = new AppEnd({ window: 4096, windowOpening: 'later', isKeepingChunks: false });
  const channel = await new ClientBootstrap({ loopGroup: group }).connect({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    pipeline: (ready) => {
      tlsPipeline({ role: 'client', ca: pem.ca, servername: 'localhost' })(ready);
      ready.appendHandler(app);
    },
  });
  await until(() => channel.isShutDown, 'the channel to shut down', 60_000);
  expect(app.bytesReceived).to.equal(payload.length);
  expect(app.digest()).to.equal(sha256(payload));
  return { channel, group };
}

describe('TlsHandler: the peer closes while the application reads slowly', () => {
  it('delivers every byte of plaintext before the read side shuts down', async () => {
    const payload = randomBytes(1024 * 1024);
    const server = tls.createServer({ cert: pem.serverCert, key: pem.serverKey }, (socket) => {
      socket.on('error', () => undefined);
      // Everything at once, then close: the client's window is far smaller than the payload.
      socket.end(payload);
    });
    try {
      const { channel, group } = await readUntilShutdown(server, payload);
      // close_notify and the FIN came together: whichever layer saw its end first names it —
      // never a failure code.
      expect(channel.shutdownError?.code).to.be.oneOf([IoErrors.SOCKET_CLOSED.code, TlsErrors.CLOSED.code]);
      expect(group.loops[0].messagePool.outstanding).to.equal(0);
    } finally {
      server.close();
    }
  });

  it('shuts down with TLS_CLOSED when close_notify comes without a FIN, after the plaintext before it', async () => {
    const payload = randomBytes(64 * 1024);
    const rawSockets: net.Socket[] = [];
    // node:tls over a transport that forwards its bytes to the TCP socket but never ends it: the
    // server's end() sends close_notify and the connection stays open, so only the TLS layer
    // can see the session end.
    const server = net.createServer((raw) => {
      rawSockets.push(raw);
      raw.on('error', () => undefined);
      const transport = new Duplex({
        read: () => raw.resume(),
        write: (chunk: Buffer, _encoding, callback) => raw.write(chunk, callback),
        final: (callback) => callback(),
      });
      raw.on('data', (chunk: Buffer) => {
        if (!transport.push(chunk)) raw.pause();
      });
      const session = new tls.TLSSocket(transport, { isServer: true, cert: pem.serverCert, key: pem.serverKey });
      session.on('error', () => undefined);
      session.on('secure', () => session.end(payload));
    });
    try {
      const { channel, group } = await readUntilShutdown(server, payload);
      expect(channel.shutdownError?.code).to.equal(TlsErrors.CLOSED.code);
      expect(group.loops[0].messagePool.outstanding).to.equal(0);
    } finally {
      for (const raw of rawSockets) raw.destroy();
      server.close();
    }
  });
});
