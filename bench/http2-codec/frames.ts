/**
 * Benchmark of the HTTP/2 frame layer: DATA decode and encode (16 KiB and 100-byte frames) in
 * frames/s and GB/s, and small control-frame decode in frames/s. Bounded to a few seconds.
 *
 * Run: `node dist/bench/http2-codec/frames.js`.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { ErrorCode, SettingId } from '../../handlers/http2/wire/constants.js';
import { FrameDecoder, type FrameListener } from '../../handlers/http2/wire/frame-decoder.js';
import { FrameEncoder, dataFrameLength } from '../../handlers/http2/wire/frame-encoder.js';

/** How long each case runs after its warm-up. */
const MEASURE_MS = 400;
const WARMUP_MS = 100;
/** Socket reads arrive in chunks of about this size. */
const READ_CHUNK = 65_536;

/** Counts what it receives and touches nothing else, so the decoder is what is measured. */
class CountingListener implements FrameListener {
  frames = 0;
  bytes = 0;
  onData(_streamId: number, _data: Uint8Array, start: number, end: number, _flow: number, isFrameEnd: boolean): void {
    this.bytes += end - start;
    if (isFrameEnd) this.frames++;
  }
  onHeaders(): void {
    this.frames++;
  }
  onPriority(): void {
    this.frames++;
  }
  onRstStream(): void {
    this.frames++;
  }
  onSettings(): void {
    this.frames++;
  }
  onPushPromise(): void {
    this.frames++;
  }
  onPing(): void {
    this.frames++;
  }
  onGoaway(): void {
    this.frames++;
  }
  onWindowUpdate(): void {
    this.frames++;
  }
  onStreamError(): void {
    this.frames++;
  }
}

/** Runs `round` until MEASURE_MS elapse (after a warm-up); returns rounds per second. */
function measure(round: () => void): number {
  const warmupEnd = performance.now() + WARMUP_MS;
  while (performance.now() < warmupEnd) round();
  let rounds = 0;
  const start = performance.now();
  let now = start;
  while (now - start < MEASURE_MS) {
    round();
    rounds++;
    now = performance.now();
  }
  return (rounds * 1000) / (now - start);
}

function report(name: string, framesPerSecond: number, payloadBytesPerFrame: number): void {
  const gbPerSecond = (framesPerSecond * payloadBytesPerFrame) / 1e9;
  const rate = Math.round(framesPerSecond).toLocaleString('en-US');
  console.log(`${name}: ${rate} frames/s${payloadBytesPerFrame > 0 ? `, ${gbPerSecond.toFixed(2)} GB/s payload` : ''}`);
}

/** Concatenated DATA frames of `payloadLength` bytes, about 1 MiB, cut into socket-sized chunks. */
function dataStream(encoder: FrameEncoder, payloadLength: number): { chunks: Uint8Array[]; frames: number } {
  const frameSize = dataFrameLength(payloadLength);
  const frames = Math.max(1, Math.floor(1_048_576 / frameSize));
  const wire = Buffer.alloc(frames * frameSize);
  const payload = Buffer.alloc(payloadLength, 0x61);
  let at = 0;
  for (let i = 0; i < frames; i++) at = encoder.writeData(wire, at, 1 + 2 * (i % 8), payload, 0, payloadLength, false);
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < wire.length; offset += READ_CHUNK)
    chunks.push(wire.subarray(offset, offset + READ_CHUNK));
  return { chunks, frames };
}

function benchDataDecode(encoder: FrameEncoder, payloadLength: number): void {
  const { chunks, frames } = dataStream(encoder, payloadLength);
  const listener = new CountingListener();
  const decoder = new FrameDecoder(listener, { requireSettingsFirst: false });
  const roundsPerSecond = measure(() => {
    for (let i = 0; i < chunks.length; i++) decoder.decode(chunks[i]);
  });
  report(
    `DATA decode (delivered as views, no copy), ${payloadLength}-byte frames, ${READ_CHUNK}-byte reads`,
    roundsPerSecond * frames,
    payloadLength,
  );
}

function benchDataEncode(encoder: FrameEncoder, payloadLength: number): void {
  // One pooled-message-sized target per round, filled with as many frames as fit, as the
  // outgoing-frames task does.
  const target = Buffer.alloc(Math.max(65_536, dataFrameLength(payloadLength)));
  const payload = Buffer.alloc(payloadLength, 0x62);
  const frameSize = dataFrameLength(payloadLength);
  const framesPerRound = Math.floor(target.length / frameSize);
  const roundsPerSecond = measure(() => {
    let at = 0;
    for (let i = 0; i < framesPerRound; i++) at = encoder.writeData(target, at, 1, payload, 0, payloadLength, false);
  });
  report(`DATA encode, ${payloadLength}-byte frames`, roundsPerSecond * framesPerRound, payloadLength);
}

function benchControlDecode(encoder: FrameEncoder): void {
  // A typical control mix: WINDOW_UPDATE, PING, PING ACK, SETTINGS, SETTINGS ACK, RST_STREAM, HEADERS.
  const wire = Buffer.alloc(65_536);
  const block = Buffer.from([0x82, 0x86, 0x84, 0x41, 0x8a, 0x08, 0x9d, 0x5c, 0x0b, 0x81, 0x70, 0xdc, 0x78, 0x0f, 0x03]);
  let at = 0;
  let frames = 0;
  while (at < wire.length - 200) {
    at = encoder.writeWindowUpdate(wire, at, 0, 65_535);
    at = encoder.writePing(wire, at, 1, 2, false);
    at = encoder.writePing(wire, at, 1, 2, true);
    at = encoder.writeSettings(wire, at, [
      [SettingId.MAX_CONCURRENT_STREAMS, 100],
      [SettingId.INITIAL_WINDOW_SIZE, 1_048_576],
    ]);
    at = encoder.writeSettingsAck(wire, at);
    at = encoder.writeRstStream(wire, at, 3, ErrorCode.CANCEL);
    at = encoder.writeHeaders(wire, at, 5, block, 0, block.length, true, true);
    frames += 7;
  }
  const chunk = wire.subarray(0, at);
  const listener = new CountingListener();
  const decoder = new FrameDecoder(listener, { requireSettingsFirst: false });
  const roundsPerSecond = measure(() => decoder.decode(chunk));
  report('control decode (WINDOW_UPDATE, PING, SETTINGS, RST_STREAM, small HEADERS mix)', roundsPerSecond * frames, 0);
}

const encoder = new FrameEncoder();
benchDataDecode(encoder, 16_384);
benchDataDecode(encoder, 100);
benchDataEncode(encoder, 16_384);
benchDataEncode(encoder, 100);
benchControlDecode(encoder);
