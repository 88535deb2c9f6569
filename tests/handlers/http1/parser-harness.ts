/**
 * Runs the HTTP/1.1 message parser over an input whole, byte by byte and in random splits, and
 * checks every run reports the same events: the one helper every parser test goes through.
 */
import { expect } from 'chai';
import { Http1ParseError } from '../../../handlers/http1/errors.js';
import {
  MessageParser,
  type MessageHead,
  type MessageListener,
  type MessageParserOptions,
  type MessageRole,
} from '../../../handlers/http1/wire/message-parser.js';

/** One parsed event; bodies as hex, consecutive body pieces merged so runs compare equal. */
export type ParsedEvent =
  | { kind: 'field'; name: string; value: string }
  | { kind: 'head'; head: HeadSnapshot }
  | { kind: 'body'; hex: string }
  | { kind: 'trailer'; name: string; value: string }
  | { kind: 'complete' }
  | { kind: 'stopped'; rest: string }
  | { kind: 'error'; code: string; status: number };

/** A copy of a {@link MessageHead}, taken during the callback. */
export type HeadSnapshot = { -readonly [K in keyof MessageHead]: MessageHead[K] };

/** How to run the parser. */
export interface HarnessOptions {
  /** The parser's options. */
  parser?: MessageParserOptions;
  /** Response role: the method of each successive request (the last repeats). */
  requestMethods?: string[];
  /** Accept upgrades the head asks for. */
  acceptUpgrade?: boolean;
  /** Call `finish()` after the input (the peer closed the connection). */
  finish?: boolean;
}

class Recorder implements MessageListener {
  readonly events: ParsedEvent[] = [];
  parser: MessageParser | null = null;
  private methodIndex = 0;

  constructor(private readonly options: HarnessOptions) {}

  onField(name: string, value: string): void {
    this.events.push({ kind: 'field', name, value });
  }

  onHeadComplete(head: MessageHead): boolean {
    this.events.push({ kind: 'head', head: { ...head } });
    return this.options.acceptUpgrade === true;
  }

  onBody(data: Uint8Array, start: number, end: number): void {
    expect(end, 'body piece is never empty').to.be.greaterThan(start);
    expect(end).to.be.at.most(data.length);
    const hex = Buffer.from(data.buffer, data.byteOffset + start, end - start).toString('hex');
    const last = this.events[this.events.length - 1];
    if (last?.kind === 'body') last.hex += hex;
    else this.events.push({ kind: 'body', hex });
  }

  onTrailerField(name: string, value: string): void {
    this.events.push({ kind: 'trailer', name, value });
  }

  onMessageComplete(): void {
    this.events.push({ kind: 'complete' });
    const methods = this.options.requestMethods;
    if (methods !== undefined && this.parser !== null) {
      this.methodIndex = Math.min(this.methodIndex + 1, methods.length - 1);
      this.parser.setRequestMethod(methods[this.methodIndex]);
    }
  }
}

/** Parses `input` cut at `cuts` (increasing offsets) and returns the events. */
export function parseWithCuts(
  role: MessageRole,
  input: Uint8Array,
  cuts: readonly number[],
  options: HarnessOptions = {},
): ParsedEvent[] {
  const recorder = new Recorder(options);
  const parser = new MessageParser(role, recorder, options.parser);
  recorder.parser = parser;
  if (options.requestMethods !== undefined) parser.setRequestMethod(options.requestMethods[0]);
  const bounds = [0, ...cuts, input.length];
  try {
    for (let i = 0; i + 1 < bounds.length; i++) {
      // A fresh copy per chunk: the parser must not keep views of earlier chunks.
      const chunk = Uint8Array.from(input.subarray(bounds[i], bounds[i + 1]));
      const consumed = parser.execute(chunk);
      if (parser.isStopped) {
        const rest = Buffer.concat([chunk.subarray(consumed), input.subarray(bounds[i + 1])]);
        recorder.events.push({ kind: 'stopped', rest: rest.toString('hex') });
        expect(parser.execute(Uint8Array.of(1, 2, 3)), 'a stopped parser consumes nothing').to.equal(0);
        return recorder.events;
      }
      expect(consumed).to.equal(chunk.length);
    }
    if (options.finish === true) parser.finish();
  } catch (error) {
    if (!(error instanceof Http1ParseError)) throw error;
    recorder.events.push({ kind: 'error', code: error.code, status: error.status });
    expect(parser.error).to.equal(error);
    // A failed parser throws the same error again.
    expect(() => parser.execute(Uint8Array.of(0x41)))
      .to.throw(Http1ParseError)
      .that.equals(error);
  }
  return recorder.events;
}

/** A small seeded PRNG (mulberry32), so random splits repeat. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random increasing cut offsets inside `length`. */
export function randomCuts(length: number, random: () => number): number[] {
  const cuts: number[] = [];
  for (let at = 0; at < length;) {
    at += 1 + Math.floor(random() * Math.min(length, 40));
    if (at < length) cuts.push(at);
  }
  return cuts;
}

/**
 * Parses `input` whole, one byte at a time, and in `splits` random splits; asserts every run
 * reports the same events and returns them.
 */
export function parseAllWays(
  role: MessageRole,
  input: string | Uint8Array,
  options: HarnessOptions = {},
  splits = 8,
): ParsedEvent[] {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const whole = parseWithCuts(role, bytes, [], options);
  const byteByByte = parseWithCuts(
    role,
    bytes,
    Array.from({ length: Math.max(0, bytes.length - 1) }, (_, i) => i + 1),
    options,
  );
  expect(byteByByte, 'byte by byte').to.deep.equal(whole);
  const random = seededRandom(bytes.length * 7919 + 17);
  for (let i = 0; i < splits; i++) {
    const cuts = randomCuts(bytes.length, random);
    expect(parseWithCuts(role, bytes, cuts, options), `split at ${cuts.join(',')}`).to.deep.equal(whole);
  }
  return whole;
}

/** The events' error, or undefined. */
export function errorOf(events: readonly ParsedEvent[]): { code: string; status: number } | undefined {
  const last = events[events.length - 1];
  return last?.kind === 'error' ? { code: last.code, status: last.status } : undefined;
}

/** The heads among the events. */
export function headsOf(events: readonly ParsedEvent[]): HeadSnapshot[] {
  return events.flatMap((event) => (event.kind === 'head' ? [event.head] : []));
}
