import { expect } from 'chai';
import {
  Client,
  HttpProxyTunnelHandler,
  Http2SessionErrors,
  IoErrors,
  SdkErrors,
  SluiceError,
  TestingChannel,
  TlsErrors,
  parseProxyUrl,
  type ServerStream,
} from '../../handlers/index.js';
import { createServer, connect } from '../../handlers/http2/index.js';
import { toBytes } from '../../handlers/http2/api/body.js';
import { tlsErrorDefinitionFor } from '../../handlers/tls/tls-errors.js';

/** Bad input to the handler families that the other suites do not reach, each with its code. */
describe('handler error paths', () => {
  describe('HTTP/2 convenient API', () => {
    it('refuses a second response and a body chunk of the wrong type', async () => {
      const seen: string[] = [];
      const server = createServer(async (stream: ServerStream) => {
        stream.respond(200);
        try {
          stream.respond(500);
        } catch (error) {
          seen.push((error as SluiceError).code);
        }
        try {
          stream.informational(103);
        } catch (error) {
          seen.push((error as SluiceError).code);
        }
        await stream.end('ok');
      });
      const listener = await server.listen({ port: 0 });
      const session = await connect(`http://127.0.0.1:${listener.port}`);
      try {
        const response = await session.request({ ':path': '/' });
        expect(await response.body.text()).to.equal('ok');
      } finally {
        await session.close();
        await listener.close();
      }
      expect(seen).to.deep.equal([
        Http2SessionErrors.ALREADY_RESPONDED.code,
        Http2SessionErrors.ALREADY_RESPONDED.code,
      ]);
      expect(() => toBytes(42))
        .to.throw(SluiceError)
        .with.property('code', Http2SessionErrors.INVALID_BODY.code);
    });
  });

  describe('SDK', () => {
    it('refuses URLs it cannot use: IO_INVALID_URL for what is not a URL, SDK_INVALID_URL or HTTP2_UNSUPPORTED_SCHEME for the wrong scheme', () => {
      expect(() => parseProxyUrl('not a url'))
        .to.throw(SluiceError)
        .with.property('code', IoErrors.INVALID_URL.code);
      expect(() => parseProxyUrl('https://proxy.test:8443'))
        .to.throw(SluiceError)
        .with.property('code', SdkErrors.INVALID_URL.code);
      expect(() => new Client({ origin: 'ftp://files.test' }))
        .to.throw(SluiceError)
        .with.property('code', Http2SessionErrors.UNSUPPORTED_SCHEME.code);
      expect(() => new Client({ origin: 'not a url' }))
        .to.throw(SluiceError)
        .with.property('code', IoErrors.INVALID_URL.code);
    });

    for (const [answer, code] of [
      ['HTTP/1.1 502 Bad Gateway\r\n\r\n', SdkErrors.PROXY_CONNECT_FAILED.code],
      ['SSH-2.0-OpenSSH_9.2\r\n\r\n', SdkErrors.PROXY_RESPONSE_INVALID.code],
    ] as const) {
      it(`shuts the tunnel down with ${code} when the proxy answers ${JSON.stringify(answer.split('\r')[0])}`, () => {
        let established = false;
        const test = new TestingChannel([
          new HttpProxyTunnelHandler({
            targetHost: 'origin.test',
            targetPort: 443,
            onEstablished: () => (established = true),
          }),
        ]);
        expect(test.takeWritten().toString()).to.match(/^CONNECT origin\.test:443 HTTP\/1\.1\r\n/);
        test.completeWrites();
        test.pushRead(answer);
        test.flushWrites();
        expect(established).to.equal(false);
        expect(test.isShutDown).to.equal(true);
        expect(test.shutdownError?.code).to.equal(code);
        expect(test.messagePool.outstanding).to.equal(0);
      });
    }
  });

  describe('TLS', () => {
    it('maps an invalid (not untrusted, not expired) server certificate to TLS_CERTIFICATE_INVALID', () => {
      expect(tlsErrorDefinitionFor('CERT_REVOKED', 'client', false)).to.equal(TlsErrors.CERTIFICATE_INVALID);
      expect(tlsErrorDefinitionFor('CERT_REVOKED', 'server', false)).to.equal(TlsErrors.CLIENT_CERTIFICATE_REJECTED);
    });
  });
});
