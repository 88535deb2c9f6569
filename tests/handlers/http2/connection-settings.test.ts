import { expect } from 'chai';
import {
  CONNECTION_PREFACE,
  ErrorCode,
  FrameFlag,
  FrameType,
  MAX_WINDOW_SIZE,
  SettingId,
} from '../../../handlers/http2/wire/constants.js';
import { Http2ConnectionError } from '../../../handlers/http2/errors.js';
import {
  GET,
  OK,
  POST,
  bodyOf,
  clientHarness,
  frameNames as describeFrames,
  expectGoaway,
  expectNoErrors,
  expectRst,
  ofType,
  request,
  serverHarness,
  type Harness,
  type WrittenFrame,
} from './peer.js';
import type { Http2Connection } from '../../../handlers/http2/connection/http2-connection.js';

function settingsOf(frame: WrittenFrame): Map<number, number> {
  const map = new Map<number, number>();
  const flat = frame.settings ?? [];
  for (let i = 0; i < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
  return map;
}

function expectConnectionFailed(h: Harness<Http2Connection>, errorCode: number): void {
  expect(h.tc.isShutDown, 'channel shut down').to.equal(true);
  const error = h.tc.shutdownError;
  expect(error).to.be.instanceOf(Http2ConnectionError);
  expect((error as Http2ConnectionError).errorCode).to.equal(errorCode);
}

describe('HTTP/2 connection: preface and SETTINGS', () => {
  it('client writes the connection preface, then SETTINGS, before any other frame', () => {
    const h = clientHarness({ handshake: false });
    const messages = h.tc.takeWrittenMessages();
    expect(messages.length).to.equal(1);
    expect(
      Buffer.from(messages[0].subarray(0, CONNECTION_PREFACE.length)).equals(Buffer.from(CONNECTION_PREFACE)),
    ).to.equal(true);
    const frames = h.reader.read(messages);
    expect(h.reader.sawPreface).to.equal(true);
    expect(frames[0].type).to.equal(FrameType.SETTINGS);
    expect(frames[0].ack).to.equal(false);
    expect(settingsOf(frames[0]).get(SettingId.ENABLE_PUSH), 'a client disables push').to.equal(0);
    h.finish();
  });

  it('server writes SETTINGS (without a preface) first and announces MAX_CONCURRENT_STREAMS', () => {
    const h = serverHarness({ handshake: false, connection: { maxConcurrentStreams: 7 } });
    const frames = h.written();
    expect(h.reader.sawPreface).to.equal(false);
    expect(frames[0].type).to.equal(FrameType.SETTINGS);
    expect(settingsOf(frames[0]).get(SettingId.MAX_CONCURRENT_STREAMS)).to.equal(7);
    h.finish();
  });

  it('opens the connection receive window to connectionWindowSize with WINDOW_UPDATE(0) at start', () => {
    const h = serverHarness({ handshake: false, connection: { connectionWindowSize: 1_000_000 } });
    const updates = ofType(h.written(), FrameType.WINDOW_UPDATE);
    expect(updates.map((frame) => [frame.streamId, frame.increment])).to.deep.equal([[0, 1_000_000 - 65_535]]);
    h.finish();
  });

  it('server sends GOAWAY(PROTOCOL_ERROR) when the client preface is wrong', () => {
    const h = serverHarness({ handshake: false });
    const frames = h.exchange(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expectGoaway(frames, ErrorCode.PROTOCOL_ERROR, 0);
    expectConnectionFailed(h, ErrorCode.PROTOCOL_ERROR);
    h.finish();
  });

  it('server sends GOAWAY(PROTOCOL_ERROR) when the first frame after the preface is not SETTINGS', () => {
    const h = serverHarness({ handshake: false });
    const frames = h.exchange(h.peer.preface(), h.peer.ping(1, 2));
    expectGoaway(frames, ErrorCode.PROTOCOL_ERROR);
    expect(ofType(frames, FrameType.PING), 'the PING is not answered').to.have.length(0);
    h.finish();
  });

  it('client sends GOAWAY(PROTOCOL_ERROR) when the server does not start with SETTINGS', () => {
    const h = clientHarness({ handshake: false });
    const frames = h.exchange(h.peer.windowUpdate(0, 100));
    expectGoaway(frames, ErrorCode.PROTOCOL_ERROR);
    h.finish();
  });

  it('acknowledges every peer SETTINGS with an empty SETTINGS ACK', () => {
    const h = serverHarness({ handshake: false });
    h.flush();
    const frames = h.exchange(
      h.peer.preface(),
      h.peer.settings([SettingId.MAX_CONCURRENT_STREAMS, 10]),
      h.peer.settings(),
    );
    const acks = ofType(frames, FrameType.SETTINGS).filter((frame) => frame.ack);
    expect(acks.map((frame) => frame.length)).to.deep.equal([0, 0]);
    h.finish();
  });

  it('applies the peer settings on arrival and reports them through onRemoteSettings', () => {
    let reported: number | undefined;
    const h = serverHarness({
      connection: { onRemoteSettings: (settings) => (reported = settings.maxConcurrentStreams) },
      peerSettings: [
        [SettingId.MAX_CONCURRENT_STREAMS, 3],
        [SettingId.MAX_HEADER_LIST_SIZE, 5000],
        [SettingId.ENABLE_PUSH, 0],
      ],
    });
    expect(reported).to.equal(3);
    expect(h.conn.peerSettings.maxConcurrentStreams).to.equal(3);
    expect(h.conn.peerSettings.maxHeaderListSize).to.equal(5000);
    expect(h.conn.peerSettings.enablePush).to.equal(false);
    h.finish();
  });

  it('ignores a SETTINGS ACK when none of our SETTINGS await one', () => {
    const h = serverHarness();
    expect(h.exchange(h.peer.settingsAck(), h.peer.settingsAck())).to.deep.equal([]);
    expect(h.tc.isShutDown).to.equal(false);
    h.finish();
  });

  it('ignores settings with unknown identifiers (RFC 9113 §6.5.2)', () => {
    const h = serverHarness();
    const frames = h.exchange(h.peer.settings([0x99, 12345], [SettingId.MAX_CONCURRENT_STREAMS, 4]));
    expect(describeFrames(frames)).to.deep.equal(['SETTINGS+ACK:0']);
    expect(h.conn.peerSettings.maxConcurrentStreams).to.equal(4);
    h.finish();
  });

  describe('SETTINGS ACK timeout', () => {
    it('sends GOAWAY(SETTINGS_TIMEOUT) when our SETTINGS are not acknowledged within settingsTimeoutMs', () => {
      const h = serverHarness({ handshake: false, connection: { settingsTimeoutMs: 5000 } });
      h.exchange(h.peer.preface(), h.peer.settings());
      h.tc.advance(4999);
      expect(h.flush(), 'nothing before the deadline').to.deep.equal([]);
      expect(h.tc.isShutDown).to.equal(false);
      h.tc.advance(1);
      expectGoaway(h.flush(), ErrorCode.SETTINGS_TIMEOUT);
      expectConnectionFailed(h, ErrorCode.SETTINGS_TIMEOUT);
      h.finish();
    });

    it('does not time out once the ACK arrived', () => {
      const h = serverHarness({ connection: { settingsTimeoutMs: 5000 } });
      h.tc.advance(60_000);
      expect(h.flush()).to.deep.equal([]);
      expect(h.tc.isShutDown).to.equal(false);
      h.finish();
    });

    it('client times out too', () => {
      const h = clientHarness({ handshake: false, connection: { settingsTimeoutMs: 1000 } });
      h.exchange(h.peer.settings());
      h.tc.advance(1000);
      expectGoaway(h.flush(), ErrorCode.SETTINGS_TIMEOUT);
      h.finish();
    });
  });

  describe('our settings take effect when acknowledged', () => {
    it('accepts DATA within the old 65 535 stream window until the peer ACKs a smaller INITIAL_WINDOW_SIZE', () => {
      const h = serverHarness({ handshake: false, connection: { initialStreamWindowSize: 1000 } });
      const ours = h.exchange(h.peer.preface(), h.peer.settings());
      expect(settingsOf(ofType(ours, FrameType.SETTINGS)[0]).get(SettingId.INITIAL_WINDOW_SIZE)).to.equal(1000);
      // The peer has not processed our SETTINGS yet: it may still send up to 65 535 bytes.
      const before = h.exchange(h.peer.headers(1, POST), h.peer.data(1, 2000), h.peer.data(1, 2000));
      expectNoErrors(before);
      expect(h.received[0].recorder.body.length).to.equal(4000);
      expect(h.received[0].recorder.closeCount).to.equal(0);
      // Once ACKed, new streams get the announced window: more than 1000 bytes is FLOW_CONTROL_ERROR.
      h.exchange(h.peer.settingsAck());
      const after = h.exchange(h.peer.headers(3, POST), h.peer.data(3, 1001));
      expectRst(after, 3, ErrorCode.FLOW_CONTROL_ERROR);
      h.finish();
    });

    it('a smaller HEADER_TABLE_SIZE acknowledged before any header block: the first block must start with a size update (RFC 7541 §4.2)', () => {
      const refused = serverHarness({ connection: { headerTableSize: 0 } });
      expectGoaway(refused.exchange(refused.peer.headers(1, GET, { endStream: true })), ErrorCode.COMPRESSION_ERROR);
      refused.finish();
      const accepted = serverHarness({ connection: { headerTableSize: 0 } });
      // 0x20: dynamic table size update to 0, then :method GET (static index 2).
      const block = Buffer.concat([Buffer.from([0x20]), accepted.peer.headerBlock(GET)]);
      expectNoErrors(accepted.exchange(accepted.peer.headers(1, block, { endStream: true })));
      expect(accepted.received).to.have.length(1);
      accepted.finish();
    });

    it('shrinks the windows of streams opened before the ACK by the difference (RFC 9113 §6.9.2)', () => {
      const h = serverHarness({
        handshake: false,
        connection: { initialStreamWindowSize: 1000, windowMode: 'manual' },
      });
      h.exchange(h.peer.preface(), h.peer.settings());
      expectNoErrors(
        h.exchange(
          h.peer.headers(1, POST),
          h.peer.data(1, 15_000),
          h.peer.data(1, 15_000),
          h.peer.data(1, 15_000),
          h.peer.data(1, 15_000),
        ),
      );
      // 65 535 − 60 000 = 5 535 left; the ACK shrinks it by 64 535 to −59 000.
      h.exchange(h.peer.settingsAck());
      expectRst(h.exchange(h.peer.data(1, 1)), 1, ErrorCode.FLOW_CONTROL_ERROR);
      h.finish();
    });
  });

  describe('peer settings', () => {
    const tableSizeCases: { size: number; firstByte: number | null }[] = [
      { size: 0, firstByte: 0x20 },
      { size: 256, firstByte: 0x3f },
      { size: 4096, firstByte: null },
    ];
    for (const { size, firstByte } of tableSizeCases) {
      it(`HEADER_TABLE_SIZE ${size}: the next header block ${firstByte === null ? 'carries no' : 'starts with a'} dynamic table size update`, () => {
        const h = clientHarness({ peerSettings: [[SettingId.HEADER_TABLE_SIZE, size]] });
        request(h);
        const headers = ofType(h.flush(), FrameType.HEADERS);
        expect(headers).to.have.length(1);
        const block = headers[0].block!;
        if (firstByte === null) expect(block[0] & 0xe0, 'no size update').to.not.equal(0x20);
        else expect(block[0]).to.equal(firstByte);
        expect(headers[0].headers).to.deep.equal(GET);
        h.finish();
      });
    }

    it('HEADER_TABLE_SIZE changed twice before the first header block: the block signals the smallest, then the last (RFC 7541 §4.2)', () => {
      const h = clientHarness({ peerSettings: [[SettingId.HEADER_TABLE_SIZE, 100]] });
      h.exchange(h.peer.settings([SettingId.HEADER_TABLE_SIZE, 2048]));
      request(h);
      const headers = ofType(h.flush(), FrameType.HEADERS);
      expect(headers).to.have.length(1);
      // 100 = 0x3f 0x45 (31 + 69), then 2048 = 0x3f 0xe1 0x0f (31 + 2017).
      expect([...headers[0].block!.subarray(0, 5)]).to.deep.equal([0x3f, 0x45, 0x3f, 0xe1, 0x0f]);
      expect(headers[0].headers).to.deep.equal(GET);
      h.finish();
    });

    const frameSizeCases: { maxFrameSize: number | null; sizes: number[] }[] = [
      { maxFrameSize: null, sizes: [16_384, 16_384, 16_384, 10_848] },
      { maxFrameSize: 32_768, sizes: [32_768, 27_232] },
    ];
    for (const { maxFrameSize, sizes } of frameSizeCases) {
      it(`MAX_FRAME_SIZE ${maxFrameSize ?? 'default'}: DATA frames are up to ${sizes[0]} bytes`, () => {
        const h = serverHarness({
          channel: { messagePool: { dataMessageSize: 128 * 1024 } },
          peerSettings: [
            [SettingId.INITIAL_WINDOW_SIZE, 1_000_000],
            ...(maxFrameSize === null ? [] : [[SettingId.MAX_FRAME_SIZE, maxFrameSize] as [number, number]]),
          ],
        });
        h.exchange(h.peer.headers(1, GET, { endStream: true }));
        const stream = h.received[0].stream;
        stream.sendHeaders(OK);
        stream.write(Buffer.alloc(60_000, 1));
        stream.end();
        const data = ofType(h.flush(), FrameType.DATA);
        expect(data.map((frame) => frame.length)).to.deep.equal(sizes);
        expect(data.at(-1)!.endStream).to.equal(true);
        h.finish();
      });
    }

    it('INITIAL_WINDOW_SIZE change shifts an open stream send window below zero, and WINDOW_UPDATE recovers it', () => {
      const h = serverHarness({ peerSettings: [[SettingId.INITIAL_WINDOW_SIZE, 1000]] });
      h.exchange(h.peer.headers(1, GET, { endStream: true }));
      const stream = h.received[0].stream;
      stream.sendHeaders(OK);
      stream.write(Buffer.alloc(5000, 2));
      expect(bodyOf(h.flush(), 1).length, 'the first 1000 bytes').to.equal(1000);
      // Window 0 → −500.
      expect(describeFrames(h.exchange(h.peer.settings([SettingId.INITIAL_WINDOW_SIZE, 500])))).to.deep.equal([
        'SETTINGS+ACK:0',
      ]);
      expect(stream._outAvailable).to.equal(-500);
      // −500 + 500 = 0: still nothing.
      expect(ofType(h.exchange(h.peer.windowUpdate(1, 500)), FrameType.DATA)).to.have.length(0);
      // 0 + 300 = 300.
      expect(bodyOf(h.exchange(h.peer.windowUpdate(1, 300)), 1).length).to.equal(300);
      // A larger INITIAL_WINDOW_SIZE adds to the window: +1500.
      expect(bodyOf(h.exchange(h.peer.settings([SettingId.INITIAL_WINDOW_SIZE, 2000])), 1).length).to.equal(1500);
      expect(stream.bufferedBytes).to.equal(5000 - 2800);
      h.finish();
    });

    it('sends GOAWAY(FLOW_CONTROL_ERROR) when an INITIAL_WINDOW_SIZE change overflows a stream window', () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(1, GET, { endStream: true }), h.peer.windowUpdate(1, MAX_WINDOW_SIZE - 65_535));
      expect(h.tc.isShutDown).to.equal(false);
      const frames = h.exchange(h.peer.settings([SettingId.INITIAL_WINDOW_SIZE, 65_536]));
      expectGoaway(frames, ErrorCode.FLOW_CONTROL_ERROR, 1);
      expectConnectionFailed(h, ErrorCode.FLOW_CONTROL_ERROR);
      expect(h.received[0].recorder.closeCount).to.equal(1);
      h.finish();
    });

    const invalid: { name: string; frame: (h: Harness<Http2Connection>) => Buffer; code: number }[] = [
      {
        name: 'ENABLE_PUSH of 2',
        frame: (h) => h.peer.settings([SettingId.ENABLE_PUSH, 2]),
        code: ErrorCode.PROTOCOL_ERROR,
      },
      {
        name: 'INITIAL_WINDOW_SIZE of 2^31',
        frame: (h) => h.peer.settings([SettingId.INITIAL_WINDOW_SIZE, 2 ** 31]),
        code: ErrorCode.FLOW_CONTROL_ERROR,
      },
      {
        name: 'MAX_FRAME_SIZE of 16 383',
        frame: (h) => h.peer.settings([SettingId.MAX_FRAME_SIZE, 16_383]),
        code: ErrorCode.PROTOCOL_ERROR,
      },
      {
        name: 'MAX_FRAME_SIZE of 2^24',
        frame: (h) => h.peer.settings([SettingId.MAX_FRAME_SIZE, 2 ** 24]),
        code: ErrorCode.PROTOCOL_ERROR,
      },
      {
        name: 'a SETTINGS ACK with a payload',
        frame: (h) => h.peer.raw(FrameType.SETTINGS, FrameFlag.ACK, 0, Buffer.alloc(6)),
        code: ErrorCode.FRAME_SIZE_ERROR,
      },
      {
        name: 'a SETTINGS payload of 5 bytes',
        frame: (h) => h.peer.raw(FrameType.SETTINGS, 0, 0, Buffer.alloc(5)),
        code: ErrorCode.FRAME_SIZE_ERROR,
      },
      {
        name: 'SETTINGS on stream 1',
        frame: (h) => h.peer.raw(FrameType.SETTINGS, 0, 1),
        code: ErrorCode.PROTOCOL_ERROR,
      },
    ];
    for (const { name, frame, code } of invalid) {
      it(`sends GOAWAY(${Object.entries(ErrorCode).find(([, v]) => v === code)![0]}) for ${name}`, () => {
        const h = serverHarness();
        const frames = h.exchange(frame(h));
        expectGoaway(frames, code);
        expect(ofType(frames, FrameType.SETTINGS), 'not acknowledged').to.have.length(0);
        expectConnectionFailed(h, code);
        h.finish();
      });
    }

    it('client sends GOAWAY(PROTOCOL_ERROR) when a server sets ENABLE_PUSH to 1', () => {
      const h = clientHarness();
      expectGoaway(h.exchange(h.peer.settings([SettingId.ENABLE_PUSH, 1])), ErrorCode.PROTOCOL_ERROR);
      h.finish();
    });
  });
});
