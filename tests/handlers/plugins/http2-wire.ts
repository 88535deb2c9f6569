/**
 * Real HTTP/2 byte streams for the wire-tap plugin tests, produced with the project's frame
 * encoder, and a deterministic splitter that cuts them at pseudo-random points.
 */
import { CONNECTION_PREFACE, ErrorCode, SettingId } from '../../../handlers/http2/wire/constants.js';
import { FrameEncoder } from '../../../handlers/http2/wire/frame-encoder.js';

const encoder = new FrameEncoder();

/** Builds one buffer from encoder calls. */
function frames(write: (target: Uint8Array, offset: number) => number): Buffer {
  const target = Buffer.alloc(4096);
  return target.subarray(0, write(target, 0));
}

/** An opaque stand-in for an HPACK block (the tap never decodes HPACK). */
export const HEADER_BLOCK = Buffer.from('828684418a089d5c0b8170dc780f03', 'hex');

/** What a client sends: preface, SETTINGS, a request split over HEADERS + CONTINUATION, a body, PING, WINDOW_UPDATE. */
export function clientBytes(): Buffer {
  return Buffer.concat([
    Buffer.from(CONNECTION_PREFACE),
    frames((t, o) =>
      encoder.writeSettings(t, o, [
        [SettingId.ENABLE_PUSH, 0],
        [SettingId.INITIAL_WINDOW_SIZE, 1 << 20],
      ]),
    ),
    frames((t, o) => encoder.writeHeaders(t, o, 1, HEADER_BLOCK, 0, 5, false, false)),
    frames((t, o) => encoder.writeContinuation(t, o, 1, HEADER_BLOCK, 5, HEADER_BLOCK.length - 5, true)),
    frames((t, o) => encoder.writeData(t, o, 1, Buffer.alloc(100, 0xab), 0, 100, true)),
    frames((t, o) => encoder.writeHeaders(t, o, 3, HEADER_BLOCK, 0, HEADER_BLOCK.length, true, true)),
    frames((t, o) => encoder.writePing(t, o, 0x01020304, 0x05060708, false)),
    frames((t, o) => encoder.writeWindowUpdate(t, o, 0, 1000)),
  ]);
}

/** The frame lines a logger prints for {@link clientBytes} received by a server (with a 4-byte excerpt). */
export const CLIENT_LINES = [
  'recv PREFACE length=24',
  'recv SETTINGS flags=- stream=0 length=12 payload=00020000…',
  'recv HEADERS flags=- stream=1 length=5 payload=82868441…',
  'recv CONTINUATION flags=END_HEADERS stream=1 length=10 payload=089d5c0b…',
  'recv DATA flags=END_STREAM stream=1 length=100 payload=abababab…',
  'recv HEADERS flags=END_STREAM|END_HEADERS stream=3 length=15 payload=82868441…',
  'recv PING flags=- stream=0 length=8 payload=01020304…',
  'recv WINDOW_UPDATE flags=- stream=0 length=4 payload=000003e8',
];

/** What a server sends back: SETTINGS, SETTINGS ACK, a response on 1, a reset of 3, GOAWAY. */
export function serverBytes(): Buffer {
  return Buffer.concat([
    frames((t, o) => encoder.writeSettings(t, o, [[SettingId.MAX_CONCURRENT_STREAMS, 100]])),
    frames((t, o) => encoder.writeSettingsAck(t, o)),
    frames((t, o) => encoder.writeHeaders(t, o, 1, HEADER_BLOCK, 0, 3, false, true)),
    frames((t, o) => encoder.writeData(t, o, 1, Buffer.from('hi'), 0, 2, true)),
    frames((t, o) => encoder.writeRstStream(t, o, 3, ErrorCode.REFUSED_STREAM)),
    frames((t, o) => encoder.writeGoaway(t, o, 3, ErrorCode.NO_ERROR)),
  ]);
}

/** The lines for {@link serverBytes} sent by a server (4-byte excerpt). */
export const SERVER_LINES = [
  'send SETTINGS flags=- stream=0 length=6 payload=00030000…',
  'send SETTINGS flags=ACK stream=0 length=0',
  'send HEADERS flags=END_HEADERS stream=1 length=3 payload=828684',
  'send DATA flags=END_STREAM stream=1 length=2 payload=6869',
  'send RST_STREAM flags=- stream=3 length=4 payload=00000007',
  'send GOAWAY flags=- stream=0 length=8 payload=00000003…',
];

/** Cuts `bytes` into pieces at pseudo-random points from `seed` (a small LCG: deterministic, no dependency). */
export function splitAtRandomPoints(bytes: Buffer, seed: number, maxPiece = 20): Buffer[] {
  const pieces: Buffer[] = [];
  let state = seed >>> 0 || 1;
  for (let offset = 0; offset < bytes.length;) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const size = 1 + (state % maxPiece);
    pieces.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}
