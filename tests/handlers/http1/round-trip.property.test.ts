/**
 * Round trips: random valid messages written by the encoder parse back, in random splits, into the
 * same messages — requests and responses, bodies by Content-Length and chunked with trailers,
 * several messages on one connection.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  chunkLength,
  lastChunkLength,
  requestHeadLength,
  responseHeadLength,
  writeChunk,
  writeLastChunk,
  writeRequestHead,
  writeResponseHead,
} from '../../../handlers/http1/wire/message-encoder.js';
import { parseAllWays, parseWithCuts, randomCuts, seededRandom, type ParsedEvent } from './parser-harness.js';

/** Field names the parser acts on: kept out of the random fields, whose round trip is plain. */
const FRAMING_NAMES = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect']);

const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,16}$/);
const fieldName = token.filter((name) => !FRAMING_NAMES.has(name.toLowerCase()));
/** A field value as the parser returns it: no surrounding whitespace, no control bytes. */
const fieldValue = fc.stringMatching(
  /^(?:[\x21-\x7e\x80-\xff](?:[\x20\t\x21-\x7e\x80-\xff]{0,30}[\x21-\x7e\x80-\xff])?)?$/,
);
const fields = fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 8 });
const body = fc.uint8Array({ maxLength: 400 });

interface Message {
  readonly head: { method: string; target: string } | { status: number; reason: string };
  readonly fields: [string, string][];
  readonly body: Uint8Array;
  /** Cut points of the body into chunks, or null for Content-Length. */
  readonly chunkCuts: number[] | null;
  readonly trailers: [string, string][];
}

const framing = fc.record({
  body,
  isChunked: fc.boolean(),
  cutSeed: fc.integer(),
  trailers: fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 4 }),
});

const request = fc
  .record({
    method: token.filter((method) => method !== 'CONNECT'),
    target: fc.stringMatching(/^\/[\x21\x22\x24-\x7e]{0,30}$/),
    fields,
    framing,
  })
  .map(({ method, target, fields, framing }) => message({ method, target }, fields, framing));

const response = fc
  .record({
    status: fc.integer({ min: 200, max: 599 }).filter((status) => status !== 204 && status !== 304),
    reason: fc.stringMatching(/^[\x20\t\x21-\x7e\x80-\xff]{0,20}$/),
    fields,
    framing,
  })
  .map(({ status, reason, fields, framing }) => message({ status, reason }, fields, framing));

function message(
  head: Message['head'],
  fields: [string, string][],
  framing: { body: Uint8Array; isChunked: boolean; cutSeed: number; trailers: [string, string][] },
): Message {
  const chunkCuts = framing.isChunked ? randomCuts(framing.body.length, seededRandom(framing.cutSeed)) : null;
  return { head, fields, body: framing.body, chunkCuts, trailers: framing.isChunked ? framing.trailers : [] };
}

/** Encodes one message with the encoder, sizing each piece with its length function. */
function encode(message: Message): Buffer {
  const head = message.head;
  const fields = [
    ...('method' in head ? ['Host', 'example.test'] : []),
    ...message.fields.flat(),
    ...(message.chunkCuts === null
      ? ['Content-Length', String(message.body.length)]
      : ['Transfer-Encoding', 'chunked']),
  ];
  const pieces: Uint8Array[] = [];
  const piece = (length: number, write: (buffer: Uint8Array) => number): void => {
    const buffer = new Uint8Array(length);
    expect(write(buffer), 'bytes written').to.equal(length);
    pieces.push(buffer);
  };
  if ('method' in head) {
    piece(requestHeadLength(head.method, head.target, fields), (b) =>
      writeRequestHead(b, 0, head.method, head.target, fields),
    );
  } else {
    piece(responseHeadLength(head.reason, fields), (b) => writeResponseHead(b, 0, head.status, head.reason, fields));
  }
  if (message.chunkCuts === null) {
    pieces.push(message.body);
  } else {
    const bounds = [0, ...message.chunkCuts, message.body.length];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const [start, end] = [bounds[i], bounds[i + 1]];
      if (end > start) piece(chunkLength(end - start), (b) => writeChunk(b, 0, message.body, start, end));
    }
    const trailers = message.trailers.flat();
    piece(lastChunkLength(trailers), (b) => writeLastChunk(b, 0, trailers));
  }
  return Buffer.concat(pieces);
}

/** The events the parser should report for `message`. */
function expectedEvents(message: Message): ParsedEvent[] {
  const head = message.head;
  const isRequest = 'method' in head;
  const isChunked = message.chunkCuts !== null;
  const events: ParsedEvent[] = [];
  if (isRequest) events.push({ kind: 'field', name: 'Host', value: 'example.test' });
  for (const [name, value] of message.fields) events.push({ kind: 'field', name, value });
  if (isChunked) events.push({ kind: 'field', name: 'Transfer-Encoding', value: 'chunked' });
  else events.push({ kind: 'field', name: 'Content-Length', value: String(message.body.length) });
  events.push({
    kind: 'head',
    head: {
      method: isRequest ? head.method : 'GET',
      target: isRequest ? head.target : '',
      status: isRequest ? 0 : head.status,
      reason: isRequest ? '' : head.reason,
      httpMinorVersion: 1,
      bodyKind: isChunked ? 'chunked' : message.body.length > 0 ? 'length' : 'none',
      contentLength: isChunked ? -1 : message.body.length,
      shouldKeepAlive: true,
      expectContinue: false,
      isUpgradeRequested: false,
      fieldCount: message.fields.length + (isRequest ? 2 : 1),
    },
  });
  if (message.body.length > 0) events.push({ kind: 'body', hex: Buffer.from(message.body).toString('hex') });
  for (const [name, value] of message.trailers) events.push({ kind: 'trailer', name, value });
  events.push({ kind: 'complete' });
  return events;
}

function checkRoundTrip(messages: Message[], role: 'request' | 'response', cutSeed: number): void {
  const bytes = Buffer.concat(messages.map(encode));
  const expected = messages.flatMap(expectedEvents);
  const events = parseWithCuts(role, bytes, randomCuts(bytes.length, seededRandom(cutSeed)));
  // Adjacent bodies of different messages never merge: a complete event sits between them.
  expect(events).to.deep.equal(expected);
}

describe('http1 encoder → parser round trips', () => {
  it('requests, by Content-Length and chunked with trailers, several per connection, in random splits', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 3 }), fc.integer(), (messages, cutSeed) =>
        checkRoundTrip(messages, 'request', cutSeed),
      ),
      { numRuns: 300 },
    );
  });

  it('responses, by Content-Length and chunked with trailers, several per connection, in random splits', () => {
    fc.assert(
      fc.property(fc.array(response, { minLength: 1, maxLength: 3 }), fc.integer(), (messages, cutSeed) =>
        checkRoundTrip(messages, 'response', cutSeed),
      ),
      { numRuns: 300 },
    );
  });

  it('a message round-trips the same whole, byte by byte and in random splits', () => {
    fc.assert(
      fc.property(request, (message) => {
        expect(parseAllWays('request', encode(message), {}, 3)).to.deep.equal(expectedEvents(message));
      }),
      { numRuns: 40 },
    );
  });
});
