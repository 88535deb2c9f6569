/**
 * permessage-deflate (RFC 7692): negotiation on both sides, compression with and without context
 * takeover, the decompression bound (1009), compressed frames through the decoder, and interop
 * with `ws`'s PerMessageDeflate in both roles.
 */
import { expect } from 'chai';
import zlib from 'node:zlib';
import { CollectingSink, ws, type WsPerMessageDeflate } from './ws-codec.js';
import { decodeAllWays, decodeWithCuts, randomCuts, seededRandom } from './decoder-harness.js';
import { WebSocketHandshakeError, WebSocketProtocolError } from '../../../handlers/websocket/errors.js';
import { Opcode } from '../../../handlers/websocket/wire/constants.js';
import {
  acceptPerMessageDeflateResponse,
  negotiatePerMessageDeflate,
  offerPerMessageDeflate,
  perMessageDeflateSide,
  type PerMessageDeflateParams,
} from '../../../handlers/websocket/wire/deflate-negotiation.js';
import { parseExtensions } from '../../../handlers/websocket/wire/extension-header.js';
import { WebSocketFrameEncoder } from '../../../handlers/websocket/wire/frame-encoder.js';
import type { WebSocketRole } from '../../../handlers/websocket/wire/frame-decoder.js';
import { PerMessageDeflater, PerMessageInflater } from '../../../handlers/websocket/wire/permessage-deflate.js';
import { isValidUtf8 } from '../../../handlers/websocket/wire/utf8-validator.js';

function compress(deflater: PerMessageDeflater, data: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    deflater.compress(data, (error, payload) => (error === null ? resolve(payload as Buffer) : reject(error))),
  );
}

function inflate(inflater: PerMessageInflater, pieces: readonly Uint8Array[]): Promise<Buffer> {
  for (const piece of pieces) inflater.write(piece);
  return new Promise((resolve, reject) =>
    inflater.finish((error, message) => (error === null ? resolve(message as Buffer) : reject(error))),
  );
}

const DEFAULTS: PerMessageDeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

describe('permessage-deflate', function () {
  this.timeout(60_000);

  describe('Sec-WebSocket-Extensions parsing', () => {
    it('parses names, parameters, quoted values and several elements', () => {
      expect(
        parseExtensions('permessage-deflate; client_max_window_bits; server_max_window_bits="10", foo'),
      ).to.deep.equal([
        {
          name: 'permessage-deflate',
          params: [
            ['client_max_window_bits', true],
            ['server_max_window_bits', '10'],
          ],
        },
        { name: 'foo', params: [] },
      ]);
    });

    for (const bad of ['permessage-deflate;', 'a; b=', 'a b', '; x', 'a; b="1 0"', 'a; b="10', 'a=1']) {
      it(`refuses ${JSON.stringify(bad)} with WEBSOCKET_INVALID_EXTENSIONS (400)`, () => {
        expect(() => parseExtensions(bad))
          .to.throw(WebSocketHandshakeError)
          .that.includes({ code: 'WEBSOCKET_INVALID_EXTENSIONS', status: 400 });
      });
    }
  });

  describe('server negotiation', () => {
    const cases: [
      string,
      string,
      Parameters<typeof negotiatePerMessageDeflate>[1],
      string | null,
      Partial<PerMessageDeflateParams>,
    ][] = [
      ['a bare offer', 'permessage-deflate', {}, 'permessage-deflate', {}],
      [
        'client_max_window_bits without a value, limited by the server',
        'permessage-deflate; client_max_window_bits',
        { clientMaxWindowBits: 10 },
        'permessage-deflate; client_max_window_bits=10',
        { clientMaxWindowBits: 10 },
      ],
      [
        'the server cannot limit a client that did not offer client_max_window_bits',
        'permessage-deflate',
        { clientMaxWindowBits: 10 },
        'permessage-deflate',
        {},
      ],
      [
        'server_max_window_bits is answered with a value no larger',
        'permessage-deflate; server_max_window_bits=12',
        { serverMaxWindowBits: 10 },
        'permessage-deflate; server_max_window_bits=10',
        { serverMaxWindowBits: 10 },
      ],
      [
        'server_max_window_bits is answered even when the server has no limit of its own',
        'permessage-deflate; server_max_window_bits=11',
        {},
        'permessage-deflate; server_max_window_bits=11',
        { serverMaxWindowBits: 11 },
      ],
      [
        'context takeover parameters are accepted and echoed',
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
        {},
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
        { serverNoContextTakeover: true, clientNoContextTakeover: true },
      ],
      [
        'the server may impose no context takeover on both sides',
        'permessage-deflate',
        { serverNoContextTakeover: true, clientNoContextTakeover: true },
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
        { serverNoContextTakeover: true, clientNoContextTakeover: true },
      ],
      [
        'an offer with an unknown parameter is declined for the next one',
        'permessage-deflate; foo, permessage-deflate; client_max_window_bits=9',
        {},
        'permessage-deflate',
        { clientMaxWindowBits: 9 },
      ],
      [
        'a repeated parameter is declined',
        'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
        {},
        null,
        {},
      ],
      ['window bits 16 are declined', 'permessage-deflate; server_max_window_bits=16', {}, null, {}],
      ['window bits 7 are declined', 'permessage-deflate; client_max_window_bits=7', {}, null, {}],
      ['window bits with a leading zero are declined', 'permessage-deflate; server_max_window_bits=09', {}, null, {}],
      [
        'server_max_window_bits without a value is declined',
        'permessage-deflate; server_max_window_bits',
        {},
        null,
        {},
      ],
      [
        'a no_context_takeover with a value is declined',
        'permessage-deflate; client_no_context_takeover=1',
        {},
        null,
        {},
      ],
      ['other extensions are skipped', 'x-webkit-deflate-frame, permessage-deflate', {}, 'permessage-deflate', {}],
      ['no offer at all', 'x-foo', {}, null, {}],
    ];
    for (const [label, offer, options, response, params] of cases) {
      it(label, () => {
        const result = negotiatePerMessageDeflate(offer, options);
        if (response === null) {
          expect(result).to.equal(null);
          return;
        }
        expect(result?.response).to.equal(response);
        expect(result?.params).to.deep.equal({ ...DEFAULTS, ...params });
      });
    }
  });

  describe('client offer and response check', () => {
    it('offers client_max_window_bits by default and the asked parameters', () => {
      expect(offerPerMessageDeflate()).to.equal('permessage-deflate; client_max_window_bits');
      expect(
        offerPerMessageDeflate({ serverNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 }),
      ).to.equal(
        'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12',
      );
      expect(offerPerMessageDeflate({ clientMaxWindowBits: false })).to.equal('permessage-deflate');
    });

    it('accepts the server response and reads the parameters', () => {
      expect(
        acceptPerMessageDeflateResponse('permessage-deflate; server_max_window_bits=10; client_max_window_bits=9', {
          serverMaxWindowBits: 12,
        }),
      ).to.deep.equal({ ...DEFAULTS, serverMaxWindowBits: 10, clientMaxWindowBits: 9 });
      expect(acceptPerMessageDeflateResponse(undefined)).to.equal(null);
      expect(acceptPerMessageDeflateResponse('x-other')).to.equal(null);
    });

    const failing: [string, string, Parameters<typeof acceptPerMessageDeflateResponse>[1]][] = [
      [
        'client_max_window_bits not offered',
        'permessage-deflate; client_max_window_bits=10',
        { clientMaxWindowBits: false },
      ],
      [
        'client_max_window_bits above the offered value',
        'permessage-deflate; client_max_window_bits=12',
        { clientMaxWindowBits: 10 },
      ],
      ['client_max_window_bits without a value', 'permessage-deflate; client_max_window_bits', {}],
      [
        'server_max_window_bits above what was asked',
        'permessage-deflate; server_max_window_bits=12',
        { serverMaxWindowBits: 10 },
      ],
      ['server_max_window_bits left out', 'permessage-deflate', { serverMaxWindowBits: 10 }],
      ['server_no_context_takeover left out', 'permessage-deflate', { serverNoContextTakeover: true }],
      ['an unknown parameter', 'permessage-deflate; foo', {}],
      ['a repeated parameter', 'permessage-deflate; client_no_context_takeover; client_no_context_takeover', {}],
      ['the extension twice', 'permessage-deflate, permessage-deflate', {}],
    ];
    for (const [label, response, offered] of failing) {
      it(`fails on ${label} (WEBSOCKET_UNEXPECTED_EXTENSION)`, () => {
        expect(() => acceptPerMessageDeflateResponse(response, offered))
          .to.throw(WebSocketHandshakeError)
          .with.property('code', 'WEBSOCKET_UNEXPECTED_EXTENSION');
      });
    }

    it('an endpoint limited to 8 window bits sends uncompressed', () => {
      const params = { ...DEFAULTS, clientMaxWindowBits: 8 };
      expect(perMessageDeflateSide(params, 'client').sendWindowBits).to.equal(0);
      expect(perMessageDeflateSide(params, 'server').receiveWindowBits).to.equal(8);
    });
  });

  describe('compression', () => {
    it('round trips several messages with context takeover; a repeat compresses smaller', async () => {
      const deflater = new PerMessageDeflater();
      const inflater = new PerMessageInflater();
      const message = Buffer.from('a sentence that repeats itself, more or less. '.repeat(20));
      const first = await compress(deflater, message);
      const second = await compress(deflater, message);
      expect(second.length).to.be.lessThan(first.length);
      expect((await inflate(inflater, [first])).equals(message)).to.equal(true);
      expect((await inflate(inflater, [second.subarray(0, 3), second.subarray(3)])).equals(message)).to.equal(true);
      expect(first.subarray(first.length - 4).equals(Buffer.from([0, 0, 0xff, 0xff]))).to.equal(false);
    });

    it('without context takeover every message inflates on its own', async () => {
      const deflater = new PerMessageDeflater({ noContextTakeover: true, windowBits: 10 });
      const message = Buffer.from('hello hello hello hello');
      await compress(deflater, message);
      const second = await compress(deflater, message);
      const fresh = new PerMessageInflater({ windowBits: 10, noContextTakeover: true });
      expect((await inflate(fresh, [second])).equals(message)).to.equal(true);
      expect((await inflate(fresh, [second])).equals(message)).to.equal(true);
    });

    it('an empty message round trips', async () => {
      const payload = await compress(new PerMessageDeflater(), new Uint8Array(0));
      expect((await inflate(new PerMessageInflater(), [payload])).length).to.equal(0);
    });

    it('a bomb stops inflating at the limit and fails with 1009', async () => {
      // 256 MiB of zeros deflate to about 256 KiB; the limit is 1 MiB.
      const bomb = zlib.deflateRawSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 });
      const inflater = new PerMessageInflater({ maxMessageSize: 1024 * 1024 });
      const error: unknown = await inflate(inflater, [bomb]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error)
        .to.be.instanceOf(WebSocketProtocolError)
        .that.includes({ code: 'WEBSOCKET_MESSAGE_TOO_LARGE', closeCode: 1009 });
      expect(inflater.peakInflatedBytes).to.be.at.most(1024 * 1024 + 16 * 1024);
      expect(inflater.error).to.equal(error);
    });

    it('data that does not inflate fails with 1007', async () => {
      const error: unknown = await inflate(new PerMessageInflater(), [Buffer.from([0xff, 0xff, 0xff, 0x00])]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error)
        .to.be.instanceOf(WebSocketProtocolError)
        .that.includes({ code: 'WEBSOCKET_INVALID_COMPRESSED_DATA', closeCode: 1007 });
    });

    it('compressed text frames pass the decoder with RSV1; UTF-8 is checked after inflating', async () => {
      const text = Buffer.from('κόσμε '.repeat(100));
      const payload = await compress(new PerMessageDeflater(), text);
      const encoder = new WebSocketFrameEncoder({ role: 'client' });
      const half = payload.length >> 1;
      const wire = Buffer.alloc(encoder.frameLength(half) + encoder.frameLength(payload.length - half));
      let at = encoder.writeDataFrame(wire, 0, Opcode.TEXT, payload, 0, half, false, true);
      at = encoder.writeDataFrame(wire, at, Opcode.CONTINUATION, payload, half, payload.length, true);
      expect(at).to.equal(wire.length);
      const events = decodeWithCuts(wire, randomCuts(wire.length, seededRandom(5)), {
        role: 'server',
        isPerMessageDeflate: true,
      });
      expect(events.every((event) => event.kind === 'frame' && event.isCompressed)).to.equal(true);
      const pieces = events.map((event) => Buffer.from(event.kind === 'frame' ? event.hex : '', 'hex'));
      const inflated = await inflate(new PerMessageInflater(), pieces);
      expect(inflated.equals(text)).to.equal(true);
      expect(isValidUtf8(inflated)).to.equal(true);
    });
  });

  describe('decoder and inflater, split anywhere', () => {
    for (const noContextTakeover of [false, true]) {
      it(`${noContextTakeover ? 'without' : 'with'} context takeover: every split inflates to the same messages`, async () => {
        const messages = [
          'first message, first message',
          'second: first message, first message',
          '',
          'κόσμε'.repeat(50),
        ];
        const deflater = new PerMessageDeflater({ noContextTakeover });
        const encoder = new WebSocketFrameEncoder({ role: 'server' });
        const frames: Buffer[] = [];
        for (const message of messages) {
          const payload = await compress(deflater, Buffer.from(message));
          const cut = payload.length >> 1;
          const first = Buffer.alloc(encoder.frameLength(cut));
          encoder.writeDataFrame(first, 0, Opcode.TEXT, payload, 0, cut, false, true);
          const second = Buffer.alloc(encoder.frameLength(payload.length - cut));
          encoder.writeDataFrame(second, 0, Opcode.CONTINUATION, payload, cut, payload.length, true);
          frames.push(first, second);
        }
        const wire = Buffer.concat(frames);
        // decodeAllWays asserts every split gives the same frames; inflate them once.
        const events = decodeAllWays(wire, { role: 'client', isPerMessageDeflate: true });
        const inflater = new PerMessageInflater({ noContextTakeover });
        const received: string[] = [];
        let pieces: Buffer[] = [];
        for (const event of events) {
          if (event.kind !== 'frame') throw new Error(`unexpected ${event.kind}`);
          expect(event.isCompressed).to.equal(true);
          pieces.push(Buffer.from(event.hex, 'hex'));
          if (!event.isMessageEnd) continue;
          const message = await inflate(inflater, pieces);
          expect(isValidUtf8(message)).to.equal(true);
          received.push(message.toString('utf8'));
          pieces = [];
        }
        expect(received).to.deep.equal(messages);
      });
    }
  });

  describe('interop with ws PerMessageDeflate', () => {
    const messages = [
      Buffer.from('hello'),
      Buffer.from('x'.repeat(100_000)),
      Buffer.alloc(0),
      Buffer.from('κόσμε'.repeat(5000)),
    ];
    const variants: [string, Parameters<typeof offerPerMessageDeflate>[0]][] = [
      ['context takeover', {}],
      [
        'no context takeover, small windows',
        {
          serverNoContextTakeover: true,
          clientNoContextTakeover: true,
          serverMaxWindowBits: 10,
          clientMaxWindowBits: true,
        },
      ],
    ];

    for (const [label, offered] of variants) {
      for (const ourRole of ['client', 'server'] as const) {
        it(`${label}: sluice as ${ourRole}, ws as the peer, both directions`, async () => {
          const peerRole: WebSocketRole = ourRole === 'client' ? 'server' : 'client';
          // Negotiate: the client offers, the server answers, the client checks.
          let params: PerMessageDeflateParams;
          let wsPmd: WsPerMessageDeflate;
          if (ourRole === 'client') {
            const offer = offerPerMessageDeflate(offered);
            wsPmd = new ws.PerMessageDeflate({ isServer: true, threshold: 0, clientMaxWindowBits: 11 });
            const accepted = wsPmd.accept(ws.extension.parse(offer)['permessage-deflate']);
            const response = ws.extension.format({ 'permessage-deflate': [accepted] });
            params = acceptPerMessageDeflateResponse(response, offered) as PerMessageDeflateParams;
          } else {
            wsPmd = new ws.PerMessageDeflate({
              isServer: false,
              threshold: 0,
              serverNoContextTakeover: offered?.serverNoContextTakeover,
              clientNoContextTakeover: offered?.clientNoContextTakeover,
              serverMaxWindowBits: offered?.serverMaxWindowBits,
            });
            const offer = ws.extension.format({ 'permessage-deflate': [wsPmd.offer()] });
            const result = negotiatePerMessageDeflate(offer, { clientMaxWindowBits: 12 });
            expect(result).to.not.equal(null);
            params = result!.params;
            wsPmd.accept(ws.extension.parse(result!.response)['permessage-deflate']);
          }
          expect(params).to.not.equal(null);
          const side = perMessageDeflateSide(params, ourRole);
          const extensions = { 'permessage-deflate': wsPmd };

          // ws → sluice: ws's Sender compresses; our decoder and inflater read.
          const sink = new CollectingSink();
          const sender = new ws.Sender(sink, extensions);
          const sent: Promise<void>[] = [];
          for (const [i, message] of messages.entries()) {
            // Odd messages in two fragments: ws compresses each and sets RSV1 on the first.
            const parts =
              i % 2 === 1
                ? [message.subarray(0, message.length >> 1), message.subarray(message.length >> 1)]
                : [message];
            parts.forEach((part, j) => {
              const options = {
                binary: i % 2 === 1,
                compress: true,
                fin: j === parts.length - 1,
                mask: peerRole === 'client',
              };
              sent.push(new Promise<void>((resolve) => sender.send(part, options, () => resolve())));
            });
          }
          await Promise.all(sent);
          const wire = sink.take();
          const events = decodeWithCuts(wire, randomCuts(wire.length, seededRandom(11), 2000), {
            role: ourRole,
            isPerMessageDeflate: true,
          });
          expect(events, 'two messages arrive in two frames each').to.have.length(messages.length + 2);
          const inflater = new PerMessageInflater({
            windowBits: side.receiveWindowBits,
            noContextTakeover: side.receiveNoContextTakeover,
          });
          const received: Buffer[] = [];
          let pieces: Buffer[] = [];
          for (const event of events) {
            expect(event.kind).to.equal('frame');
            if (event.kind !== 'frame') continue;
            pieces.push(Buffer.from(event.hex, 'hex'));
            if (!event.isMessageEnd) continue;
            received.push(event.isCompressed ? await inflate(inflater, pieces) : Buffer.concat(pieces));
            pieces = [];
          }
          expect(received.map((m) => m.toString('hex'))).to.deep.equal(messages.map((m) => m.toString('hex')));

          // sluice → ws: our deflater and encoder; ws's Receiver inflates.
          expect(side.sendWindowBits).to.be.greaterThan(0);
          const deflater = new PerMessageDeflater({
            windowBits: side.sendWindowBits,
            noContextTakeover: side.sendNoContextTakeover,
          });
          const encoder = new WebSocketFrameEncoder({ role: ourRole });
          const frames: Buffer[] = [];
          for (const [i, message] of messages.entries()) {
            const payload = await compress(deflater, message);
            // Odd messages go in two frames: RSV1 on the first only (RFC 7692 §6.1).
            const cut = i % 2 === 1 ? payload.length >> 1 : payload.length;
            const first = Buffer.alloc(encoder.frameLength(cut));
            const opcode = i % 2 === 1 ? Opcode.BINARY : Opcode.TEXT;
            encoder.writeDataFrame(first, 0, opcode, payload, 0, cut, cut === payload.length, true);
            frames.push(first);
            if (cut === payload.length) continue;
            const rest = Buffer.alloc(encoder.frameLength(payload.length - cut));
            encoder.writeDataFrame(rest, 0, Opcode.CONTINUATION, payload, cut, payload.length, true, false);
            frames.push(rest);
          }
          const receiver = new ws.Receiver({ isServer: peerRole === 'server', maxPayload: 0, extensions });
          const got: Buffer[] = [];
          await new Promise<void>((resolve, reject) => {
            receiver.on('message', (data) => {
              got.push(Buffer.isBuffer(data) ? Buffer.from(data) : Buffer.concat(data));
              if (got.length === messages.length) resolve();
            });
            receiver.on('error', reject);
            receiver.write(Buffer.concat(frames));
          });
          expect(got.map((m) => m.toString('hex'))).to.deep.equal(messages.map((m) => m.toString('hex')));
          wsPmd.cleanup();
          deflater.close();
          inflater.close();
        });
      }
    }
  });
});
