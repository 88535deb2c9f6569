/**
 * The HTTP/1.1 message parser as a target of `npm run fuzz` (`bench/fuzz.ts` round-robins over it
 * in both roles): valid traffic written with the project's encoder, HTTP/1-aware mutations
 * (line endings, framing fields, chunk sizes, whitespace), random limits and random splits.
 *
 * The only exception allowed out of the parser is an {@link Http1ParseError}; the listener checks
 * what it is given (ranges inside the chunk, heads in range), `execute()` must consume its input
 * unless the parser stopped for a tunnel, and the input parsed in random pieces must report what
 * it reports parsed whole (fields, heads, body bytes, the outcome). Hangs and memory growth are caught by the fuzz
 * loop's per-iteration budget and memory sampling.
 *
 * @module
 */
import { Http1ParseError } from '../handlers/http1/errors.js';
import {
  chunkLength,
  lastChunkLength,
  requestHeadLength,
  responseHeadLength,
  writeChunk,
  writeLastChunk,
  writeRequestHead,
  writeResponseHead,
} from '../handlers/http1/wire/message-encoder.js';
import {
  MessageParser,
  type MessageHead,
  type MessageListener,
  type MessageParserOptions,
} from '../handlers/http1/wire/message-parser.js';

/** The PRNG the fuzz loop passes in (its seeded `Random`). */
export interface FuzzRandom {
  /** Integer in [0, n). */
  int(n: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** `n` random bytes. */
  bytes(n: number): Buffer;
}

/** Which side's input is fuzzed: requests (a server's parser) or responses (a client's). */
export type Http1FuzzRole = 'request' | 'response';

const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'OPTIONS', 'DELETE', 'PROPFIND'];
const NAMES = ['Accept', 'User-Agent', 'Cookie', 'X-Trace', 'Content-Type', 'Connection', 'Expect', 'Upgrade', 'TE'];
const VALUES = ['close', 'keep-alive', '100-continue', 'h2c', 'websocket', 'text/html; q=0.9', 'a=b; c=d', ''];
const STATUSES = [200, 201, 204, 206, 301, 304, 400, 404, 500, 100, 103];
/** Pieces spliced in by the mutations: what framing and smuggling bugs are made of. */
const INTERESTING = [
  '\r\n',
  '\n',
  '\r',
  '\r\n\r\n',
  ' ',
  '\t',
  ':',
  ',',
  ';',
  '\0',
  'Transfer-Encoding: chunked\r\n',
  'Content-Length: 5\r\n',
  'Content-Length: 0\r\n',
  'Host: x\r\n',
  'Transfer-Encoding: gzip, chunked\r\n',
  '0\r\n\r\n',
  'ffffffffffffffffff',
  '20000000000000',
  ' chunked',
  'HTTP/1.1 200 OK\r\n',
  'GET / HTTP/1.1\r\n',
  'CONNECT a:1 HTTP/1.1\r\n',
  '\r\n x',
].map((text) => Buffer.from(text, 'latin1'));

function pick<T>(random: FuzzRandom, items: readonly T[]): T {
  return items[random.int(items.length)];
}

function randomFields(random: FuzzRandom): string[] {
  const fields: string[] = [];
  const count = random.int(6);
  for (let i = 0; i < count; i++) {
    const value = random.chance(0.5)
      ? pick(random, VALUES)
      : 'v'.repeat(random.chance(0.05) ? random.int(3000) : random.int(30));
    fields.push(pick(random, NAMES), value);
  }
  return fields;
}

/** One buffer of valid traffic from one side: 1–4 messages written with the encoder. */
export function validHttp1Traffic(random: FuzzRandom, role: Http1FuzzRole): Buffer {
  const parts: Buffer[] = [];
  const messages = 1 + random.int(4);
  for (let m = 0; m < messages; m++) {
    const fields = randomFields(random);
    const status = pick(random, STATUSES);
    // RFC 9112 §6.3: 1xx, 204 and 304 carry no body and no framing fields here.
    const hasBody = role === 'request' || (status >= 200 && status !== 204 && status !== 304);
    const body = random.bytes(!hasBody || random.chance(0.3) ? 0 : random.int(role === 'request' ? 600 : 1500));
    const isChunked = hasBody && random.chance(0.4);
    const isLast = m === messages - 1;
    if (role === 'request') fields.unshift('Host', 'fuzz.test');
    if (isChunked) fields.push('Transfer-Encoding', 'chunked');
    else if (hasBody && (role === 'request' || !isLast || random.chance(0.7)))
      fields.push('Content-Length', String(body.length));
    if (random.chance(0.1)) parts.push(Buffer.from('\r\n'));
    let head: Buffer;
    if (role === 'request') {
      const method = pick(random, METHODS);
      const target = `/${random.int(1000)}?q=${'x'.repeat(random.int(20))}`;
      head = Buffer.alloc(requestHeadLength(method, target, fields));
      writeRequestHead(head, 0, method, target, fields);
    } else {
      head = Buffer.alloc(responseHeadLength('Fuzz', fields));
      writeResponseHead(head, 0, status, 'Fuzz', fields);
    }
    parts.push(head);
    if (!isChunked) {
      parts.push(body);
      continue;
    }
    for (let at = 0; at < body.length;) {
      const size = Math.min(body.length - at, 1 + random.int(400));
      const chunk = Buffer.alloc(chunkLength(size));
      writeChunk(chunk, 0, body, at, at + size);
      if (random.chance(0.2)) {
        // A chunk extension, which the encoder never writes: spliced in after the size.
        const sizeDigits = chunk.indexOf('\r\n');
        parts.push(chunk.subarray(0, sizeDigits), Buffer.from(';ext="fuzz"'), chunk.subarray(sizeDigits));
      } else {
        parts.push(chunk);
      }
      at += size;
    }
    const trailers = random.chance(0.3) ? ['X-Checksum', String(random.int(1e6))] : [];
    const last = Buffer.alloc(lastChunkLength(trailers));
    writeLastChunk(last, 0, trailers);
    parts.push(last);
  }
  return Buffer.concat(parts);
}

/** HTTP/1-aware mutations: byte edits, truncations, splices of {@link INTERESTING} pieces, CRLF damage. */
export function mutateHttp1(random: FuzzRandom, input: Buffer): Buffer {
  let bytes = Buffer.from(input);
  const rounds = 1 + random.int(4);
  for (let round = 0; round < rounds && bytes.length > 0; round++) {
    const at = random.int(bytes.length);
    switch (random.int(8)) {
      case 0:
        bytes[at] ^= 1 << random.int(8);
        break;
      case 1:
        bytes[at] = random.int(256);
        break;
      case 2:
        bytes = bytes.subarray(0, at);
        break;
      case 3:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + random.int(40))]);
        break;
      case 4: {
        const piece = bytes.subarray(at, at + 1 + random.int(100));
        bytes = Buffer.concat([bytes.subarray(0, at), piece, piece, bytes.subarray(at + piece.length)]);
        break;
      }
      case 5: {
        // Damage a line ending: CRLF → LF, CR, or CR CR LF.
        const crlf = bytes.indexOf('\r\n', at);
        if (crlf < 0) break;
        const replacement = pick(random, ['\n', '\r', '\r\r\n', '\n\r']);
        bytes = Buffer.concat([bytes.subarray(0, crlf), Buffer.from(replacement), bytes.subarray(crlf + 2)]);
        break;
      }
      default:
        bytes = Buffer.concat([bytes.subarray(0, at), pick(random, INTERESTING), bytes.subarray(at)]);
    }
  }
  return bytes;
}

/** Checks what the parser reports and counts it, touching every byte range. */
class CheckingListener implements MessageListener {
  touched = 0;
  /** What the parser reported, body bytes merged: a whole parse and a split one must agree. */
  readonly events: string[] = [];
  private readonly role: Http1FuzzRole;

  constructor(role: Http1FuzzRole) {
    this.role = role;
  }

  onField(name: string, value: string): void {
    this.touched += name.length + value.length;
    this.events.push(`field ${name}: ${value}`);
  }

  onHeadComplete(head: MessageHead): boolean {
    if (this.role === 'response' && (head.status < 100 || head.status > 599)) {
      throw new Error(`head with status ${head.status}`);
    }
    if (head.bodyKind === 'length' && !(head.contentLength > 0)) {
      throw new Error(`body by length with Content-Length ${head.contentLength}`);
    }
    this.events.push(`head ${JSON.stringify(head)}`);
    // Decided by the head alone, so that every split of the input decides the same.
    return head.isUpgradeRequested && head.fieldCount % 2 === 0;
  }

  onBody(data: Uint8Array, start: number, end: number): void {
    if (!(start >= 0 && start < end && end <= data.length)) {
      throw new Error(`body range ${start}..${end} of ${data.length}`);
    }
    this.touched += data[start] & 1;
    const piece = Buffer.from(data.buffer, data.byteOffset + start, end - start).toString('hex');
    const last = this.events.length - 1;
    if (last >= 0 && this.events[last].startsWith('body ')) this.events[last] += piece;
    else this.events.push(`body ${piece}`);
  }

  onTrailerField(name: string, value: string): void {
    this.touched += name.length + value.length;
    this.events.push(`trailer ${name}: ${value}`);
  }

  onMessageComplete(): void {
    this.events.push('complete');
  }
}

/** Splits `bytes` into 1–4 chunks, or single bytes for short inputs now and then. */
function splitInput(random: FuzzRandom, bytes: Buffer): Buffer[] {
  if (bytes.length <= 512 && random.chance(0.1)) return Array.from(bytes, (byte) => Buffer.from([byte]));
  const chunks: Buffer[] = [];
  let at = 0;
  for (let i = 1 + random.int(4); i > 1 && at < bytes.length; i--) {
    const end = at + random.int(bytes.length - at + 1);
    chunks.push(bytes.subarray(at, end));
    at = end;
  }
  chunks.push(bytes.subarray(at));
  return chunks;
}

/**
 * Feeds `input` to a parser of `role` with random limits and splits, then to another parser with
 * the same limits in one piece: both must report the same (the parser reads a line lying whole in
 * a chunk on a path of its own). Returns the outcome: `ok`, `stopped` (a tunnel or upgrade) or the
 * error code. Throws anything else that escaped, an `Error` for a broken listener contract, or one
 * for parses that differ.
 */
export function fuzzHttp1Parser(random: FuzzRandom, input: Buffer, role: Http1FuzzRole): string {
  const isSmall = random.chance(0.3);
  const options = {
    maxStartLineLength: isSmall ? 16 + random.int(200) : undefined,
    maxHeaderBlockSize: isSmall ? 16 + random.int(2000) : undefined,
    maxFieldCount: isSmall ? random.int(8) : undefined,
    maxBodySize: isSmall ? random.int(2000) : undefined,
    maxChunkSize: isSmall ? random.int(1000) : undefined,
    maxChunkExtensionsSize: isSmall ? random.int(40) : undefined,
  };
  const method = role === 'response' ? pick(random, ['GET', 'GET', 'GET', 'POST', 'HEAD', 'CONNECT']) : 'GET';
  const finishes = random.chance(0.5);
  const split = parseIn(role, options, method, splitInput(random, input), finishes);
  const whole = parseIn(role, options, method, [input], finishes);
  if (split.outcome !== whole.outcome || split.events.join('\n') !== whole.events.join('\n')) {
    throw new Error(
      `split and whole parses differ: ${split.outcome} after ${split.events.length} events, ${whole.outcome} after ${whole.events.length}`,
    );
  }
  return split.outcome;
}

/** One parser of `role` fed `chunks`: its outcome and what it reported. */
function parseIn(
  role: Http1FuzzRole,
  options: MessageParserOptions,
  method: string,
  chunks: readonly Buffer[],
  finishes: boolean,
): { outcome: string; events: string[] } {
  const listener = new CheckingListener(role);
  const parser = new MessageParser(role, listener, options);
  if (role === 'response') parser.setRequestMethod(method);
  const outcome = ((): string => {
    try {
      for (const chunk of chunks) {
        const consumed = parser.execute(chunk);
        if (consumed > chunk.length || consumed < 0) throw new Error(`execute returned ${consumed} of ${chunk.length}`);
        if (parser.isStopped) return 'stopped';
        if (consumed !== chunk.length)
          throw new Error(`execute consumed ${consumed} of ${chunk.length} without stopping`);
      }
      if (finishes) parser.finish();
      return 'ok';
    } catch (error) {
      if (error instanceof Http1ParseError) {
        if (parser.error !== error) {
          throw new Error(`${error.code} thrown but not kept as the parser's error`, { cause: error });
        }
        return error.code;
      }
      throw error;
    }
  })();
  return { outcome, events: listener.events };
}
