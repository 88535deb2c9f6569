import { expect } from 'chai';
import {
  ChannelErrors,
  PassThroughHandler,
  SluiceError,
  TestingChannel,
  type ChannelSlot,
} from '../../../handlers/index.js';
import { TLS_RECORD_OVERHEAD, TlsErrors, TlsHandler, alpnPipeline } from '../../../handlers/tls/index.js';
import { fromNodeTlsError } from '../../../handlers/tls/tls-errors.js';
import { ioTurns } from '../../support/waiting.js';
import { pem } from './tls-test-kit.js';

describe('TlsHandler on the testing channel', () => {
  it('reports the largest record overhead, so a max-size write right of it fits one record', () => {
    // TLS 1.2 AES-GCM: 5 header + 8 explicit nonce + 16 tag; TLS 1.3: 5 + 1 + 16.
    expect(TLS_RECORD_OVERHEAD).to.equal(Math.max(5 + 8 + 16, 5 + 1 + 16));
    const test = new TestingChannel([new TlsHandler({ role: 'client', ca: pem.ca }), new PassThroughHandler()], {
      autoCompleteWrites: true,
    });
    const right = test.handlerSlots[1];
    expect(right.upstreamMessageOverhead).to.equal(TLS_RECORD_OVERHEAD);
    const message = right.acquireMaxMessageForWrite();
    expect(message.capacity).to.equal(test.messagePool.dataMessageSize - TLS_RECORD_OVERHEAD);
    message.release();
    test.shutdown(null, true);
    expect(test.messagePool.outstanding).to.equal(0);
  });

  it('sends a ClientHello and no plaintext before the handshake completes', async () => {
    const test = new TestingChannel(new TlsHandler({ role: 'client', ca: pem.ca }), { autoCompleteWrites: true });
    test.pushWrite('secret before handshake');
    await ioTurns(5);
    test.runUntilIdle();
    const written = test.takeWritten();
    expect(written[0]).to.equal(0x16); // TLS handshake record (RFC 8446 §5.1)
    expect(written.includes(Buffer.from('secret'))).to.equal(false);
    expect(test.takeRead().length).to.equal(0);
    test.shutdown();
    expect(test.isShutDown).to.equal(true);
    expect(test.messagePool.outstanding).to.equal(0);
  });

  it('fails with TLS_NEGOTIATION_TIMEOUT on the loop clock (virtual time)', async () => {
    const test = new TestingChannel(new TlsHandler({ role: 'client', ca: pem.ca, negotiationTimeoutMs: 1000 }), {
      autoCompleteWrites: true,
    });
    await ioTurns(3);
    test.advance(999);
    expect(test.channel.isShuttingDown).to.equal(false);
    test.advance(1);
    expect(test.isShutDown).to.equal(true);
    expect(test.shutdownError?.code).to.equal(TlsErrors.NEGOTIATION_TIMEOUT.code);
    expect(test.messagePool.outstanding).to.equal(0);
  });

  it('fails with TLS_PROTOCOL_ERROR or TLS_HANDSHAKE_FAILED when the peer does not speak TLS', async () => {
    const test = new TestingChannel(new TlsHandler({ role: 'server', cert: pem.serverCert, key: pem.serverKey }), {
      autoCompleteWrites: true,
    });
    await ioTurns(2);
    test.pushRead('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    for (let turn = 0; turn < 20 && !test.isShutDown; turn++) {
      await ioTurns(1);
      test.runUntilIdle();
    }
    expect(test.shutdownError?.code).to.be.oneOf([TlsErrors.PROTOCOL_ERROR.code, TlsErrors.HANDSHAKE_FAILED.code]);
    expect(test.messagePool.outstanding).to.equal(0);
  });

  it('rejects certificates that do not parse with TLS_INVALID_OPTIONS', () => {
    expect(() => new TlsHandler({ role: 'server', cert: 'not a certificate', key: pem.serverKey }))
      .to.throw(SluiceError)
      .with.property('code', TlsErrors.INVALID_OPTIONS.code);
  });
});

describe('alpnPipeline', () => {
  const slotRecordingInsert = (): { slot: ChannelSlot; inserted: unknown[] } => {
    const inserted: unknown[] = [];
    const slot = { insertRight: (handler: unknown) => inserted.push(handler) } as unknown as ChannelSlot;
    return { slot, inserted };
  };

  it('installs the handler mapped to the negotiated protocol', () => {
    const h2 = new PassThroughHandler();
    const { slot, inserted } = slotRecordingInsert();
    alpnPipeline({ h2: () => h2 })(slot, 'h2');
    expect(inserted).to.deep.equal([h2]);
  });

  it('uses the fallback for an unknown or absent protocol', () => {
    const fallback = new PassThroughHandler();
    const { slot, inserted } = slotRecordingInsert();
    const select = alpnPipeline({ h2: () => new PassThroughHandler() }, { fallback: () => fallback });
    select(slot, null);
    select(slot, 'http/1.1');
    expect(inserted).to.deep.equal([fallback, fallback]);
  });

  it('throws TLS_ALPN_MISMATCH without a fallback (and ignores inherited keys)', () => {
    const { slot } = slotRecordingInsert();
    const select = alpnPipeline({ h2: () => new PassThroughHandler() });
    for (const protocol of [null, 'http/1.1', 'toString']) {
      expect(() => select(slot, protocol))
        .to.throw(SluiceError)
        .with.property('code', TlsErrors.ALPN_MISMATCH.code);
    }
  });
});

describe('fromNodeTlsError', () => {
  const cases: Array<[string, 'client' | 'server', boolean, string]> = [
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'client', false, TlsErrors.CERTIFICATE_UNTRUSTED.code],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'client', false, TlsErrors.CERTIFICATE_UNTRUSTED.code],
    ['CERT_HAS_EXPIRED', 'client', false, TlsErrors.CERTIFICATE_EXPIRED.code],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'client', false, TlsErrors.CERTIFICATE_HOSTNAME_MISMATCH.code],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'server', false, TlsErrors.CLIENT_CERTIFICATE_REJECTED.code],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'client', true, TlsErrors.PEER_CERTIFICATE_REQUIRED.code],
    ['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', 'server', false, TlsErrors.PEER_CERTIFICATE_REQUIRED.code],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'client', true, TlsErrors.CLIENT_CERTIFICATE_REJECTED.code],
    ['ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL', 'client', false, TlsErrors.ALPN_MISMATCH.code],
    ['ERR_SSL_NO_APPLICATION_PROTOCOL', 'server', false, TlsErrors.ALPN_MISMATCH.code],
    ['ERR_SSL_TLSV1_ALERT_DECODE_ERROR', 'client', true, TlsErrors.ALERT_RECEIVED.code],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'server', false, TlsErrors.PROTOCOL_ERROR.code],
    ['ECONNRESET', 'client', false, TlsErrors.HANDSHAKE_FAILED.code],
  ];
  for (const [code, role, isHandshakeComplete, expected] of cases) {
    it(`maps ${code} (${role}) to ${expected}, keeping the cause`, () => {
      const cause = Object.assign(new Error(code), { code });
      const error = fromNodeTlsError(cause, role, isHandshakeComplete);
      expect(error.code).to.equal(expected);
      expect(error.cause).to.equal(cause);
    });
  }

  it('passes SluiceErrors through', () => {
    const original = new SluiceError(ChannelErrors.SHUT_DOWN);
    expect(fromNodeTlsError(original, 'client', true)).to.equal(original);
  });
});
