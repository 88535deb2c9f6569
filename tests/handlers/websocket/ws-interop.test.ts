/**
 * Interop at codec level with the `ws` package, uncompressed: frames `ws`'s Sender writes are read
 * by our decoder, and frames our encoder writes are read by `ws`'s Receiver, in both roles
 * (masked client frames, unmasked server frames): text and binary from 0 B to 4 MiB, fragmented
 * messages, ping, pong and close.
 */
import { expect } from 'chai';
import { CollectingSink, ws } from './ws-codec.js';
import { decodeWithCuts, errorOf, randomCuts, seededRandom, type DecodedEvent } from './decoder-harness.js';
import { createHash } from 'node:crypto';
import { Opcode } from '../../../handlers/websocket/wire/constants.js';
import { WebSocketFrameEncoder } from '../../../handlers/websocket/wire/frame-encoder.js';
import type { WebSocketRole } from '../../../handlers/websocket/wire/frame-decoder.js';

/** What travels in these tests: whole messages and control frames. */
export type Exchange =
  | { kind: 'message'; isBinary: boolean; data: Buffer; fragments?: number }
  | { kind: 'ping' | 'pong'; data: Buffer }
  | { kind: 'close'; code: number; reason: string };

const SIZES = [0, 1, 125, 126, 65_535, 65_536, 1024 * 1024 + 3, 4 * 1024 * 1024];

function pattern(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 131 + seed) & 0xff;
  return bytes;
}

function textOf(length: number): Buffer {
  // Mixed widths, cut back to whole characters.
  const text = 'aé€😀'.repeat(Math.ceil(length / 10) + 1);
  let bytes = Buffer.from(text).subarray(0, length);
  while (bytes.length > 0 && bytes.toString('utf8').includes('\uFFFD')) bytes = bytes.subarray(0, bytes.length - 1);
  return Buffer.from(bytes);
}

/** The exchanges every direction runs. */
export function exchanges(): Exchange[] {
  const list: Exchange[] = [];
  for (const size of SIZES) {
    list.push({ kind: 'message', isBinary: true, data: pattern(size, size & 0xff) });
    list.push({ kind: 'message', isBinary: false, data: textOf(size) });
  }
  list.push({ kind: 'message', isBinary: false, data: textOf(70_000), fragments: 7 });
  list.push({ kind: 'message', isBinary: true, data: pattern(300_000, 9), fragments: 3 });
  list.push({ kind: 'message', isBinary: false, data: Buffer.from('κόσμε'), fragments: 5 });
  list.push({ kind: 'ping', data: Buffer.from('') });
  list.push({ kind: 'ping', data: pattern(125, 1) });
  list.push({ kind: 'pong', data: Buffer.from('pong!') });
  list.push({ kind: 'close', code: 4001, reason: 'done ✓' });
  return list;
}

/** Splits `data` into `count` fragments (the first ones possibly empty for tiny data). */
function fragmentsOf(data: Buffer, count: number): Buffer[] {
  const size = Math.ceil(data.length / count);
  return Array.from({ length: count }, (_, i) => data.subarray(i * size, Math.min(data.length, (i + 1) * size)));
}

/** Assembles decoded frames into exchanges (messages whole). */
function assemble(events: readonly DecodedEvent[]): Exchange[] {
  const out: Exchange[] = [];
  let pieces: string[] = [];
  for (const event of events) {
    if (event.kind === 'frame') {
      pieces.push(event.hex);
      if (event.isMessageEnd) {
        out.push({ kind: 'message', isBinary: event.opcode === 2, data: Buffer.from(pieces.join(''), 'hex') });
        pieces = [];
      }
    } else if (event.kind === 'ping' || event.kind === 'pong') {
      out.push({ kind: event.kind, data: Buffer.from(event.hex, 'hex') });
    } else if (event.kind === 'close') {
      out.push({ kind: 'close', code: event.code, reason: event.reason });
    } else if (event.kind === 'error') {
      throw new Error(`decoder failed: ${event.code}`);
    }
  }
  return out;
}

/**
 * The exchanges as comparable summaries: a message's data as its length and SHA-1 (deep equality
 * over megabytes of Buffer is slow), fragment counts dropped (the receiver reassembles).
 */
export function summary(list: readonly Exchange[]): string[] {
  return list.map((item) => {
    if (item.kind === 'close') return `close ${item.code} ${item.reason}`;
    const digest = createHash('sha1').update(item.data).digest('hex');
    const label = item.kind === 'message' ? (item.isBinary ? 'binary' : 'text') : item.kind;
    return `${label} ${item.data.length} ${digest}`;
  });
}

/** Frames the exchanges with `ws`'s Sender (masked when it plays the client). */
async function sendWithWs(list: readonly Exchange[], senderRole: WebSocketRole): Promise<Buffer> {
  const sink = new CollectingSink();
  const sender = new ws.Sender(sink);
  const mask = senderRole === 'client';
  const done: Promise<void>[] = [];
  const track = (): ((error?: Error) => void) => {
    let resolve!: () => void;
    done.push(new Promise<void>((r) => (resolve = r)));
    return () => resolve();
  };
  for (const item of list) {
    if (item.kind === 'message') {
      const parts = fragmentsOf(item.data, item.fragments ?? 1);
      parts.forEach((part, i) =>
        sender.send(part, { binary: item.isBinary, fin: i === parts.length - 1, mask, compress: false }, track()),
      );
    } else if (item.kind === 'close') sender.close(item.code, item.reason, mask, track());
    else if (item.kind === 'ping') sender.ping(item.data, mask, track());
    else sender.pong(item.data, mask, track());
  }
  await Promise.all(done);
  return sink.take();
}

/** Frames the exchanges with our encoder. */
export function sendWithSluice(list: readonly Exchange[], role: WebSocketRole): Buffer {
  const encoder = new WebSocketFrameEncoder({ role });
  const parts: Buffer[] = [];
  for (const item of list) {
    if (item.kind === 'message') {
      const fragments = fragmentsOf(item.data, item.fragments ?? 1);
      fragments.forEach((fragment, i) => {
        const opcode = i > 0 ? Opcode.CONTINUATION : item.isBinary ? Opcode.BINARY : Opcode.TEXT;
        const target = Buffer.allocUnsafe(encoder.frameLength(fragment.length));
        encoder.writeDataFrame(target, 0, opcode, fragment, 0, fragment.length, i === fragments.length - 1);
        parts.push(target);
      });
    } else if (item.kind === 'close') {
      const target = Buffer.allocUnsafe(encoder.closeFrameLength(item.code, item.reason));
      encoder.writeClose(target, 0, item.code, item.reason);
      parts.push(target);
    } else {
      const target = Buffer.allocUnsafe(encoder.frameLength(item.data.length));
      if (item.kind === 'ping') encoder.writePing(target, 0, item.data);
      else encoder.writePong(target, 0, item.data);
      parts.push(target);
    }
  }
  return Buffer.concat(parts);
}

/** Feeds `wire` to `ws`'s Receiver in random chunks and collects what it emits. */
export function receiveWithWs(
  wire: Buffer,
  receiverRole: WebSocketRole,
  seed: number,
  extensions: Record<string, unknown> = {},
): Promise<Exchange[]> {
  const receiver = new ws.Receiver({ isServer: receiverRole === 'server', maxPayload: 0, extensions });
  const out: Exchange[] = [];
  return new Promise((resolve, reject) => {
    receiver.on('message', (data, isBinary) => {
      out.push({ kind: 'message', isBinary, data: Buffer.isBuffer(data) ? Buffer.from(data) : Buffer.concat(data) });
    });
    receiver.on('ping', (data) => out.push({ kind: 'ping', data: Buffer.from(data) }));
    receiver.on('pong', (data) => out.push({ kind: 'pong', data: Buffer.from(data) }));
    receiver.on('conclude', (code, reason) => {
      out.push({ kind: 'close', code, reason: reason.toString('utf8') });
      resolve(out);
    });
    receiver.on('error', reject);
    const cuts = [0, ...randomCuts(wire.length, seededRandom(seed), 4096), wire.length];
    for (let i = 0; i + 1 < cuts.length; i++) receiver.write(Buffer.from(wire.subarray(cuts[i], cuts[i + 1])));
  });
}

describe('WebSocket codec interop with ws (uncompressed)', function () {
  this.timeout(120_000);
  const list = exchanges();

  for (const role of ['server', 'client'] as const) {
    const peer: WebSocketRole = role === 'server' ? 'client' : 'server';

    it(`our ${role} decoder reads what ws's Sender writes as a ${peer}`, async () => {
      const wire = await sendWithWs(list, peer);
      const cuts = randomCuts(wire.length, seededRandom(role === 'server' ? 1 : 2), 4096);
      expect(summary(assemble(decodeWithCuts(wire, [], { role })))).to.deep.equal(summary(list));
      expect(summary(assemble(decodeWithCuts(wire, cuts, { role })))).to.deep.equal(summary(list));
    });

    it(`ws's Receiver as a ${peer} reads what our ${role} encoder writes`, async () => {
      const wire = sendWithSluice(list, role);
      expect(summary(await receiveWithWs(wire, peer, role === 'server' ? 3 : 4))).to.deep.equal(summary(list));
    });
  }

  it("ws's Receiver rejects what our decoder rejects: an unmasked frame to a server", async () => {
    const wire = sendWithSluice([{ kind: 'message', isBinary: true, data: Buffer.from('x') }], 'server');
    const rejected = await receiveWithWs(wire, 'server', 5).then(
      () => null,
      (error: Error & { code?: string }) => error.code,
    );
    expect(rejected).to.equal('WS_ERR_EXPECTED_MASK');
    expect(errorOf(decodeWithCuts(wire, [], { role: 'server' }))?.code).to.equal('WEBSOCKET_UNMASKED_FRAME');
  });
});
