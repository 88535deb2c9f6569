/**
 * A small HTTP/1.1 response reader for the simulator's raw clients: they write requests byte for
 * byte (pipelined, or an h2c upgrade) straight onto a simulated socket, so what comes back is read
 * here, independently of sluice's own parser.
 */

/** One response read whole. */
export interface RawResponse {
  readonly status: number;
  /** Lower-case names to values (the last of a repeated name). */
  readonly fields: ReadonlyMap<string, string>;
  readonly body: Buffer;
  /** Trailer fields of a chunked body (empty when there were none). */
  readonly trailers: ReadonlyMap<string, string>;
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** Where the reader is in the response being read. */
type Phase = 'head' | 'length-body' | 'chunk-size' | 'chunk-data' | 'trailers';

/**
 * RawResponseReader takes bytes as they arrive and hands out whole responses in order: heads, then
 * bodies framed by Content-Length or chunked (with trailers); 1xx and 204 have none. A 101 ends
 * HTTP/1.1: the bytes after it are the next protocol's ({@link RawResponseReader.takeRest}).
 * Incremental (bytes are consumed as they are read, so a body split into many reads costs no
 * rescans). Malformed input throws an Error naming what is wrong.
 */
export class RawResponseReader {
  /** Bytes not consumed yet. */
  private buffer = Buffer.alloc(0);
  private phase: Phase = 'head';
  private status = 0;
  private fields = new Map<string, string>();
  private pieces: Buffer[] = [];
  /** Body bytes (length-body) or chunk bytes (chunk-data) still to come. */
  private remaining = 0;
  private readonly done: RawResponse[] = [];

  /** Adds bytes read. */
  add(chunk: Uint8Array): void {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    while (this.step());
  }

  /** The next whole response, or null until its last byte arrived. */
  next(): RawResponse | null {
    return this.done.shift() ?? null;
  }

  /** Every byte not read as a response (what follows a 101), and nothing kept. */
  takeRest(): Buffer {
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    return rest;
  }

  /** Advances through the buffer; false when it needs more bytes (or a 101 ended HTTP/1.1). */
  private step(): boolean {
    switch (this.phase) {
      case 'head':
        return this.readHead();
      case 'length-body':
      case 'chunk-data': {
        if (this.remaining === 0) return this.endOfData();
        if (this.buffer.length === 0) return false;
        const take = Math.min(this.remaining, this.buffer.length);
        this.pieces.push(Buffer.from(this.buffer.subarray(0, take)));
        this.buffer = this.buffer.subarray(take);
        this.remaining -= take;
        return true;
      }
      case 'chunk-size': {
        const lineEnd = this.buffer.indexOf(CRLF);
        if (lineEnd < 0) return false;
        const sizeText = this.buffer.subarray(0, lineEnd).toString('latin1').split(';')[0].trim();
        if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`bad chunk size ${JSON.stringify(sizeText)}`);
        this.buffer = this.buffer.subarray(lineEnd + CRLF.length);
        this.remaining = parseInt(sizeText, 16);
        this.phase = this.remaining === 0 ? 'trailers' : 'chunk-data';
        return true;
      }
      case 'trailers':
        return this.readTrailers();
    }
  }

  private readHead(): boolean {
    const headEnd = this.buffer.indexOf(HEAD_END);
    if (headEnd < 0) return false;
    const lines = this.buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
    this.buffer = this.buffer.subarray(headEnd + HEAD_END.length);
    const statusMatch = /^HTTP\/1\.1 (\d{3}) /.exec(`${lines[0]} `);
    if (statusMatch === null) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
    this.status = Number(statusMatch[1]);
    this.fields = readFields(lines.slice(1));
    if (this.status < 200 || this.status === 204 || this.status === 304) {
      this.finish(new Map());
      return this.status !== 101;
    }
    if (this.fields.get('transfer-encoding')?.toLowerCase() === 'chunked') {
      this.phase = 'chunk-size';
      return true;
    }
    const length = Number(this.fields.get('content-length') ?? 'NaN');
    if (!Number.isInteger(length) || length < 0) throw new Error(`response ${this.status} without a length`);
    this.phase = 'length-body';
    this.remaining = length;
    return true;
  }

  /** A length-framed body or a chunk's data was read whole. */
  private endOfData(): boolean {
    if (this.phase === 'length-body') {
      this.finish(new Map());
      return true;
    }
    if (this.buffer.length < CRLF.length) return false;
    if (!this.buffer.subarray(0, CRLF.length).equals(CRLF)) throw new Error('chunk without CRLF');
    this.buffer = this.buffer.subarray(CRLF.length);
    this.phase = 'chunk-size';
    return true;
  }

  /** The trailer section: field lines, then an empty line. */
  private readTrailers(): boolean {
    if (this.buffer.length >= CRLF.length && this.buffer.subarray(0, CRLF.length).equals(CRLF)) {
      this.buffer = this.buffer.subarray(CRLF.length);
      this.finish(new Map());
      return true;
    }
    const end = this.buffer.indexOf(HEAD_END);
    if (end < 0) return false;
    const trailers = readFields(this.buffer.subarray(0, end).toString('latin1').split('\r\n'));
    this.buffer = this.buffer.subarray(end + HEAD_END.length);
    this.finish(trailers);
    return true;
  }

  private finish(trailers: Map<string, string>): void {
    this.done.push({ status: this.status, fields: this.fields, body: Buffer.concat(this.pieces), trailers });
    this.pieces = [];
    this.phase = 'head';
  }
}

function readFields(lines: readonly string[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`bad field line ${JSON.stringify(line)}`);
    fields.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return fields;
}
