/**
 * RFC 8441 in the HTTP/2 connection: SETTINGS_ENABLE_CONNECT_PROTOCOL (§3) in both roles, and the
 * `:protocol` rules of the extended CONNECT (§4), each MUST with the exact error code.
 */
import { expect } from 'chai';
import { ErrorCode, FrameType, SettingId } from '../../../handlers/http2/wire/constants.js';
import { Http2ConnectionError } from '../../../handlers/http2/errors.js';
import type { Http2PeerSettings } from '../../../handlers/http2/connection/connection-options.js';
import type { SluiceError } from '../../../lib/index.js';
import { thrownCode } from '../../support/error-codes.js';
import {
  GET,
  OK,
  clientHarness,
  expectGoaway,
  expectNoErrors,
  expectRst,
  ofType,
  request,
  serverHarness,
  WEBSOCKET_CONNECT,
  type WrittenFrame,
} from './peer.js';

const EXTENDED_CONNECT = WEBSOCKET_CONNECT;

/** The values of SETTINGS_ENABLE_CONNECT_PROTOCOL in the SETTINGS frames (not ACKs) among `frames`. */
function connectProtocolValues(frames: readonly WrittenFrame[]): number[] {
  const values: number[] = [];
  for (const frame of ofType(frames, FrameType.SETTINGS)) {
    const flat = frame.settings ?? [];
    for (let i = 0; i < flat.length; i += 2)
      if (flat[i] === SettingId.ENABLE_CONNECT_PROTOCOL) values.push(flat[i + 1]);
  }
  return values;
}

/** `EXTENDED_CONNECT` without the pseudo-header field `name`. */
function without(name: string): string[] {
  const fields: string[] = [];
  for (let i = 0; i < EXTENDED_CONNECT.length; i += 2) {
    if (EXTENDED_CONNECT[i] !== name) fields.push(EXTENDED_CONNECT[i], EXTENDED_CONNECT[i + 1]);
  }
  return fields;
}

describe('HTTP/2 connection: RFC 8441 SETTINGS_ENABLE_CONNECT_PROTOCOL (§3)', () => {
  it('a server with enableConnectProtocol announces SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 in its first SETTINGS', () => {
    const h = serverHarness({ handshake: false, connection: { enableConnectProtocol: true } });
    const frames = h.written();
    expect(frames[0].type).to.equal(FrameType.SETTINGS);
    expect(connectProtocolValues([frames[0]])).to.deep.equal([1]);
    h.finish();
  });

  it('sends the setting exactly once over a connection (it is never withdrawn: no 0 after 1)', () => {
    const h = serverHarness({ connection: { enableConnectProtocol: true } });
    const frames = [...h.handshakeFrames];
    frames.push(...h.exchange(h.peer.settings([SettingId.INITIAL_WINDOW_SIZE, 100_000])));
    frames.push(...h.exchange(h.peer.headers(1, EXTENDED_CONNECT)));
    h.received[0].stream.sendHeaders(OK);
    frames.push(...h.flush());
    expect(connectProtocolValues(frames)).to.deep.equal([1]);
    h.finish();
  });

  it('the connection refuses to queue SETTINGS_ENABLE_CONNECT_PROTOCOL = 0 after 1 (HTTP2_INVALID_ARGUMENT), sending nothing', () => {
    const h = serverHarness({ connection: { enableConnectProtocol: true } });
    expect(thrownCode(() => h.conn.settings.send([SettingId.ENABLE_CONNECT_PROTOCOL, 0]))).to.equal(
      'HTTP2_INVALID_ARGUMENT',
    );
    expect(ofType(h.flush(), FrameType.SETTINGS)).to.have.length(0);
    h.finish();
  });

  it('a server without the option does not send the setting', () => {
    const h = serverHarness({ handshake: false });
    expect(connectProtocolValues(h.written())).to.deep.equal([]);
    h.finish();
  });

  it('a client never sends the setting, even with the option (only a server’s value has an effect)', () => {
    const h = clientHarness({ handshake: false, connection: { enableConnectProtocol: true } });
    expect(connectProtocolValues(h.written())).to.deep.equal([]);
    h.finish();
  });

  it('a client records the server’s 1 in peerSettings.enableConnectProtocol', () => {
    const h = clientHarness({ peerSettings: [[SettingId.ENABLE_CONNECT_PROTOCOL, 1]] });
    expect(h.conn.peerSettings.enableConnectProtocol).to.equal(true);
    h.finish();
  });

  it('a client answers a server’s 0 after 1 with GOAWAY(PROTOCOL_ERROR)', () => {
    const h = clientHarness({ peerSettings: [[SettingId.ENABLE_CONNECT_PROTOCOL, 1]] });
    const frames = h.exchange(h.peer.settings([SettingId.ENABLE_CONNECT_PROTOCOL, 0]));
    expectGoaway(frames, ErrorCode.PROTOCOL_ERROR);
    expect(h.tc.shutdownError).to.be.instanceOf(Http2ConnectionError);
    expect((h.tc.shutdownError as Http2ConnectionError).errorCode).to.equal(ErrorCode.PROTOCOL_ERROR);
    h.finish();
  });

  it('a client accepts the server’s 1 repeated, and a 0 that was never 1', () => {
    const h = clientHarness({ peerSettings: [[SettingId.ENABLE_CONNECT_PROTOCOL, 0]] });
    expectNoErrors(h.exchange(h.peer.settings([SettingId.ENABLE_CONNECT_PROTOCOL, 1])));
    expectNoErrors(h.exchange(h.peer.settings([SettingId.ENABLE_CONNECT_PROTOCOL, 1])));
    expect(h.tc.isShutDown).to.equal(false);
    h.finish();
  });

  it('a server ignores the setting from a client, 0 after 1 included (receipt by a server has no impact)', () => {
    const h = serverHarness({ peerSettings: [[SettingId.ENABLE_CONNECT_PROTOCOL, 1]] });
    expectNoErrors(h.exchange(h.peer.settings([SettingId.ENABLE_CONNECT_PROTOCOL, 0])));
    expect(h.tc.isShutDown).to.equal(false);
    // Still no extended CONNECT accepted: only what the server sent counts.
    expectRst(h.exchange(h.peer.headers(1, EXTENDED_CONNECT)), 1, ErrorCode.PROTOCOL_ERROR);
    h.finish();
  });
});

describe('HTTP/2 connection: the extended CONNECT (RFC 8441 §4)', () => {
  it('a server that did not send the setting resets a request with :protocol: RST_STREAM(PROTOCOL_ERROR)', () => {
    const h = serverHarness();
    expectRst(h.exchange(h.peer.headers(1, EXTENDED_CONNECT)), 1, ErrorCode.PROTOCOL_ERROR);
    expect(h.received).to.have.length(0);
    h.finish();
  });

  it('a server that sent the setting passes a valid extended CONNECT to onStream', () => {
    const h = serverHarness({ connection: { enableConnectProtocol: true } });
    expectNoErrors(h.exchange(h.peer.headers(1, [...EXTENDED_CONNECT, 'sec-websocket-version', '13'])));
    expect(h.received).to.have.length(1);
    expect(h.received[0].headers.slice(0, 4)).to.deep.equal([':method', 'CONNECT', ':protocol', 'websocket']);
    h.finish();
  });

  const malformed: readonly { title: string; fields: string[] }[] = [
    { title: 'without :scheme', fields: without(':scheme') },
    { title: 'without :path', fields: without(':path') },
    { title: 'without :authority', fields: without(':authority') },
    {
      title: 'with an http :path that does not start with /',
      fields: EXTENDED_CONNECT.map((value) => (value === '/chat' ? 'chat' : value)),
    },
    { title: 'with :protocol on GET', fields: [...GET, ':protocol', 'websocket'] },
    { title: 'with :protocol twice', fields: [...EXTENDED_CONNECT, ':protocol', 'websocket'] },
    {
      title: 'with Connection: upgrade (RFC 8441 §5: it MUST NOT be sent)',
      fields: [...EXTENDED_CONNECT, 'connection', 'upgrade'],
    },
    { title: 'with Upgrade: websocket (RFC 8441 §5)', fields: [...EXTENDED_CONNECT, 'upgrade', 'websocket'] },
  ];
  for (const { title, fields } of malformed) {
    it(`an extended CONNECT ${title} is malformed: RST_STREAM(PROTOCOL_ERROR), not seen by onStream`, () => {
      const h = serverHarness({ connection: { enableConnectProtocol: true } });
      expectRst(h.exchange(h.peer.headers(1, fields)), 1, ErrorCode.PROTOCOL_ERROR);
      expect(h.received).to.have.length(0);
      expect(h.tc.isShutDown, 'a stream error: the connection goes on').to.equal(false);
      h.finish();
    });
  }
});

describe('HTTP/2 client: sending an extended CONNECT (RFC 8441 §3, §4)', () => {
  it('refuses :protocol before the server’s SETTINGS enabled it (HTTP2_INVALID_HEADERS), sending nothing', () => {
    const h = clientHarness({ handshake: false });
    h.written();
    expect(thrownCode(() => h.conn.request(EXTENDED_CONNECT))).to.equal('HTTP2_INVALID_HEADERS');
    expect(ofType(h.written(), FrameType.HEADERS)).to.have.length(0);
    h.finish();
  });

  it('refuses :protocol when the server’s SETTINGS did not enable it', () => {
    const h = clientHarness();
    expect(thrownCode(() => h.conn.request(EXTENDED_CONNECT))).to.equal('HTTP2_INVALID_HEADERS');
    h.finish();
  });

  it('sends :protocol with :scheme, :path and :authority once the server enabled it', () => {
    const h = clientHarness({ peerSettings: [[SettingId.ENABLE_CONNECT_PROTOCOL, 1]] });
    request(h, EXTENDED_CONNECT, { isEndStream: false });
    const headers = ofType(h.flush(), FrameType.HEADERS);
    expect(headers).to.have.length(1);
    expect(headers[0].headers).to.deep.equal(EXTENDED_CONNECT);
    h.finish();
  });

  it('onceRemoteSettings calls back once the server’s first SETTINGS were applied', async () => {
    const h = clientHarness({ handshake: false });
    const seen: { error: SluiceError | null; settings: Http2PeerSettings }[] = [];
    h.conn.onceRemoteSettings((error, settings) => seen.push({ error, settings: { ...settings } }));
    expect(h.conn.hasRemoteSettings).to.equal(false);
    h.exchange(h.peer.settings([SettingId.ENABLE_CONNECT_PROTOCOL, 1]));
    expect(h.conn.hasRemoteSettings).to.equal(true);
    expect(seen.map((entry) => [entry.error, entry.settings.enableConnectProtocol])).to.deep.equal([[null, true]]);
    // Later waiters are answered on a later turn, with the settings already applied.
    const later = new Promise<boolean>((resolve) =>
      h.conn.onceRemoteSettings((_error, settings) => resolve(settings.enableConnectProtocol)),
    );
    expect(await later).to.equal(true);
    h.finish();
  });

  it('onceRemoteSettings gets the connection’s error when the connection ends before the SETTINGS', () => {
    const h = clientHarness({ handshake: false });
    const errors: (string | null)[] = [];
    h.conn.onceRemoteSettings((error) => errors.push(error?.code ?? null));
    h.exchange(h.peer.goaway(0, ErrorCode.INTERNAL_ERROR));
    h.finish();
    expect(errors).to.have.length(1);
    expect(errors[0]).to.be.a('string');
  });
});
