import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { ClientBootstrap, EventLoopGroup, IoErrors } from '../../../handlers/index.js';
import { TlsErrors, tlsPipeline } from '../../../handlers/tls/index.js';
import { RecordingApp, pem, sha256, until } from './tls-test-kit.js';

describe('TlsHandler: the peer closes while the application reads slowly', () => {
  it('delivers every byte of plaintext before the read side shuts down', async () => {
    const payload = randomBytes(1024 * 1024);
    const server = tls.createServer({ cert: pem.serverCert, key: pem.serverKey }, (socket) => {
      socket.on('error', () => undefined);
      // Everything at once, then close: the client's window is far smaller than the payload.
      socket.end(payload);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const group = new EventLoopGroup();
    const app = new RecordingApp(4096, 'later', false);
    try {
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
      // close_notify and the FIN came together: whichever layer saw its end first names it —
      // never a failure code.
      expect(channel.shutdownError?.code).to.be.oneOf([IoErrors.SOCKET_CLOSED.code, TlsErrors.CLOSED.code]);
      expect(group.loops[0]!.messagePool.outstanding).to.equal(0);
    } finally {
      server.close();
    }
  });
});
