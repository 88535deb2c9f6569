/**
 * RFC 9218 priorities: the `priority` field value (an RFC 8941 Dictionary) parsed and written,
 * and the small integer a stream keeps its priority in.
 *
 * @module
 */
import { SluiceError } from '../../../lib/index.js';
import { describeValue } from '../../../lib/argument-checks.js';
import { Http2ApiErrors } from '../errors.js';

/**
 * Http2Priority is a response's priority, RFC 9218 §4: `urgency` 0 (most urgent) to 7
 * (background), 3 by default; `incremental` true when the client uses the response as its bytes
 * arrive (responses of one urgency then share the connection), false by default (they are sent
 * one after the other, in request order).
 */
export interface Http2Priority {
  /** 0–7, lower first; 3 by default (RFC 9218 §4.1). */
  readonly urgency: number;
  /** Whether the response is processed incrementally; false by default (RFC 9218 §4.2). */
  readonly incremental: boolean;
}

/** The priority of a request that carries no signal, RFC 9218 §4: `u=3`, not incremental. */
export const DEFAULT_PRIORITY: Http2Priority = Object.freeze({ urgency: 3, incremental: false });

// A stream keeps its priority in one small integer (an inline field, no object): the low four
// bits are its rank, `urgency * 2 + incremental` — the order the RFC 9218 scheduler serves in,
// lowest first — and the bits above are per-stream bookkeeping (see below). Only this module
// and the scheduler read the bits.

/** The bits of a stream's rank. @internal */
export const RANK_MASK = 0xf;
/** Ranks there are: 8 urgencies × incremental or not. @internal */
export const RANK_COUNT = 16;
/** The rank of {@link DEFAULT_PRIORITY}. @internal */
export const DEFAULT_RANK = 6;
/** Client: the application chose the priority, so the request's HEADERS carry it. @internal */
export const EXPLICIT_PRIORITY = 0x10;
/** Server: one PRIORITY_UPDATE received on the stream (the count is kept from this bit up). @internal */
export const ONE_PRIORITY_UPDATE = 0x20;

/** The rank of urgency `urgency` (0–7), incremental or not. @internal */
export function rankOf(urgency: number, isIncremental: boolean): number {
  return urgency * 2 + (isIncremental ? 1 : 0);
}

/** One frozen object per rank: reading a stream's priority allocates nothing. */
const PRIORITIES: readonly Http2Priority[] = Array.from({ length: RANK_COUNT }, (_, rank) =>
  Object.freeze({ urgency: rank >> 1, incremental: (rank & 1) === 1 }),
);
/** The field value per rank, written once. */
const FIELD_VALUES: readonly string[] = Array.from(
  { length: RANK_COUNT },
  (_, rank) => `u=${rank >> 1}${(rank & 1) === 1 ? ', i' : ''}`,
);

/** The priority of `rank` (a shared frozen object). @internal */
export function priorityOfRank(rank: number): Http2Priority {
  return PRIORITIES[rank & RANK_MASK];
}

/** The `priority` field value that says `rank`, both parameters written out (`u=0, i`, `u=3`). @internal */
export function priorityFieldValue(rank: number): string {
  return FIELD_VALUES[rank & RANK_MASK];
}

/**
 * The rank of a priority the application gives; throws `HTTP2_INVALID_ARGUMENT` unless it is an
 * object whose `urgency` (if present) is an integer 0–7 and `incremental` (if present) a boolean.
 * A missing member takes its default. `what` names the call for the message.
 *
 * @internal
 */
export function checkedRank(priority: unknown, what: string): number {
  if (typeof priority !== 'object' || priority === null) {
    throw new SluiceError(
      Http2ApiErrors.INVALID_ARGUMENT,
      `${what}: a priority is an object { urgency, incremental }, not ${describeValue(priority)}`,
    );
  }
  const { urgency = 3, incremental = false } = priority as { urgency?: unknown; incremental?: unknown };
  if (typeof urgency !== 'number' || !Number.isInteger(urgency) || urgency < 0 || urgency > 7) {
    throw new SluiceError(
      Http2ApiErrors.INVALID_ARGUMENT,
      `${what}: urgency is an integer 0–7 (RFC 9218 §4.1), not ${describeValue(urgency)}`,
    );
  }
  if (typeof incremental !== 'boolean') {
    throw new SluiceError(
      Http2ApiErrors.INVALID_ARGUMENT,
      `${what}: incremental is a boolean (RFC 9218 §4.2), not ${describeValue(incremental)}`,
    );
  }
  return rankOf(urgency, incremental);
}

/** Returned by {@link parsePriorityField} when the value is not an RFC 8941 Dictionary. @internal */
export const PRIORITY_FIELD_INVALID = -1;

/**
 * The priority a request's `priority` field value asks for (RFC 9218 §4–5), parsed as an RFC
 * 8941 Dictionary: `u` an integer 0–7, `i` a boolean; a member absent, out of range or of
 * another type takes its default, unknown members are ignored. Null when the value is not a
 * Dictionary (the field is then ignored: the default priority applies). Throws
 * `HTTP2_INVALID_ARGUMENT` for a value that is not a string.
 *
 * @example
 * ```ts
 * parsePriority('u=1, i'); // { urgency: 1, incremental: true }
 * parsePriority('u=9, foo'); // { urgency: 3, incremental: false }: out of range, unknown
 * parsePriority('u=1,'); // null: a trailing comma is not a Dictionary
 * ```
 */
export function parsePriority(value: string): Http2Priority | null {
  if (typeof value !== 'string') {
    throw new SluiceError(
      Http2ApiErrors.INVALID_ARGUMENT,
      `parsePriority: a field value is a string, not ${describeValue(value)}`,
    );
  }
  const rank = parsePriorityField(value);
  return rank === PRIORITY_FIELD_INVALID ? null : priorityOfRank(rank);
}

/**
 * Parses a `priority` field value (RFC 9218 §4–5: an RFC 8941 §3.2 Dictionary, parsed as §4.2
 * says) and returns the rank it gives: `u` an integer 0–7 and `i` a boolean; a member that is
 * absent, of another type or out of range is ignored (RFC 9218 §4) and keeps its part of
 * `baseRank` — the defaults for a request or a PRIORITY_UPDATE, the client's priority for a
 * response (RFC 9218 §8); unknown members are ignored; of a key given twice the last counts
 * (RFC 8941 §3.2). Returns {@link PRIORITY_FIELD_INVALID} when the value does not parse as a
 * Dictionary. Allocates nothing.
 *
 * @internal
 */
export function parsePriorityField(value: string, baseRank: number = DEFAULT_RANK): number {
  const parser = PARSER;
  parser.input = value;
  parser.at = 0;
  parser.urgency = -1;
  parser.incremental = -1;
  const isParsed = parser.parseField();
  parser.input = '';
  if (!isParsed) return PRIORITY_FIELD_INVALID;
  const urgency = parser.urgency >= 0 ? parser.urgency : (baseRank & RANK_MASK) >> 1;
  const incremental = parser.incremental >= 0 ? parser.incremental === 1 : (baseRank & 1) === 1;
  return rankOf(urgency, incremental);
}

// Character classes of RFC 8941 §3 (ASCII only; anything above 0x7f fails every test).
const LCALPHA = 1; // a-z
const UCALPHA = 2; // A-Z
const DIGIT = 4; // 0-9
const KEY_REST = 8; // "_" "-" "." "*"
const TCHAR_REST = 16; // tchar besides letters and digits, RFC 9110 §5.6.2
const BASE64 = 32; // letters, digits, "+" "/" "="
const CLASS = (() => {
  const table = new Uint8Array(128);
  for (let c = 0x61; c <= 0x7a; c++) table[c] = LCALPHA | BASE64;
  for (let c = 0x41; c <= 0x5a; c++) table[c] = UCALPHA | BASE64;
  for (let c = 0x30; c <= 0x39; c++) table[c] = DIGIT | BASE64;
  for (const char of '_-.*') table[char.charCodeAt(0)] |= KEY_REST;
  for (const char of "!#$%&'*+-.^_`|~") table[char.charCodeAt(0)] |= TCHAR_REST;
  for (const char of '+/=') table[char.charCodeAt(0)] |= BASE64;
  return table;
})();

function classOf(code: number): number {
  return code < 0x80 ? CLASS[code] : 0;
}

/** What a bare item parsed as: the parts of it {@link parsePriorityField} reads. */
const ITEM_OTHER = 0;
const ITEM_INTEGER = 1;
const ITEM_BOOLEAN = 2;
/** A member whose value is an Inner List. */
const ITEM_INNER_LIST = 3;

/**
 * The RFC 8941 §4.2 parsing algorithms for a Dictionary, as methods over one reused state (the
 * input and a position): every value type is parsed for its syntax, and only `u` and `i` are
 * kept. One instance serves every call (parsing is synchronous).
 */
class DictionaryParser {
  input = '';
  at = 0;
  /** The last `u` member: its urgency, -1 when absent or ignored. */
  urgency = -1;
  /** The last `i` member: 1 or 0, -1 when absent or ignored. */
  incremental = -1;
  /** The bare item parsed last: its kind and, for an integer or a boolean, its value. */
  private itemKind = ITEM_OTHER;
  private itemValue = 0;

  /** §4.2 for a Dictionary field: leading and trailing SP, then members separated by commas. */
  parseField(): boolean {
    this.skipSpaces();
    if (!this.parseDictionary()) return false;
    this.skipSpaces();
    return this.at === this.input.length;
  }

  /** §4.2.2. */
  private parseDictionary(): boolean {
    const input = this.input;
    while (this.at < input.length) {
      const keyStart = this.at;
      if (!this.parseKey()) return false;
      const keyLength = this.at - keyStart;
      if (input.charCodeAt(this.at) === 0x3d /* = */) {
        this.at++;
        if (!this.parseItemOrInnerList()) return false;
      } else {
        // A member without a value is the boolean true, with parameters.
        this.itemKind = ITEM_BOOLEAN;
        this.itemValue = 1;
        if (!this.parseParameters()) return false;
      }
      if (keyLength === 1) this.keep(input.charCodeAt(keyStart));
      this.skipOptionalWhitespace();
      if (this.at === input.length) return true;
      if (input.charCodeAt(this.at) !== 0x2c /* , */) return false;
      this.at++;
      this.skipOptionalWhitespace();
      if (this.at === input.length) return false; // a trailing comma
    }
    return true;
  }

  /** Records member `key` (one character) if it is `u` or `i`; a later member replaces it. */
  private keep(key: number): void {
    if (key === 0x75 /* u */) {
      const isUrgency = this.itemKind === ITEM_INTEGER && this.itemValue >= 0 && this.itemValue <= 7;
      this.urgency = isUrgency ? this.itemValue : -1;
    } else if (key === 0x69 /* i */) {
      this.incremental = this.itemKind === ITEM_BOOLEAN ? this.itemValue : -1;
    }
  }

  /** §4.2.1.2 (an Item) or §4.2.1.2 (an Inner List). */
  private parseItemOrInnerList(): boolean {
    if (this.input.charCodeAt(this.at) === 0x28 /* ( */) {
      if (!this.parseInnerList()) return false;
      this.itemKind = ITEM_INNER_LIST;
      return true;
    }
    return this.parseBareItem() && this.parseParameters();
  }

  /** §4.2.1.2. */
  private parseInnerList(): boolean {
    const input = this.input;
    this.at++;
    while (this.at < input.length) {
      this.skipSpaces();
      if (input.charCodeAt(this.at) === 0x29 /* ) */) {
        this.at++;
        return this.parseParameters();
      }
      if (!this.parseBareItem() || !this.parseParameters()) return false;
      const next = input.charCodeAt(this.at);
      if (next !== 0x20 && next !== 0x29) return false;
    }
    return false;
  }

  /** §4.2.3.2: `;key` or `;key=bare-item`, repeated. */
  private parseParameters(): boolean {
    const input = this.input;
    while (this.at < input.length && input.charCodeAt(this.at) === 0x3b /* ; */) {
      this.at++;
      this.skipSpaces();
      if (!this.parseKey()) return false;
      if (input.charCodeAt(this.at) === 0x3d /* = */) {
        this.at++;
        // A parameter's value must parse, but the item it follows keeps its kind and value.
        const kind = this.itemKind;
        const value = this.itemValue;
        if (!this.parseBareItem()) return false;
        this.itemKind = kind;
        this.itemValue = value;
      }
    }
    return true;
  }

  /** §4.2.3.3: lcalpha or `*`, then lcalpha, digits, `_ - . *`. */
  private parseKey(): boolean {
    const input = this.input;
    const first = input.charCodeAt(this.at);
    if (first !== 0x2a && (classOf(first) & LCALPHA) === 0) return false;
    this.at++;
    while (this.at < input.length && (classOf(input.charCodeAt(this.at)) & (LCALPHA | DIGIT | KEY_REST)) !== 0)
      this.at++;
    return true;
  }

  /** §4.2.3.1: the bare item's type from its first character. */
  private parseBareItem(): boolean {
    const code = this.input.charCodeAt(this.at);
    this.itemKind = ITEM_OTHER;
    if (code === 0x2d /* - */ || (classOf(code) & DIGIT) !== 0) return this.parseNumber();
    if (code === 0x22 /* " */) return this.parseString();
    if (code === 0x2a /* * */ || (classOf(code) & (LCALPHA | UCALPHA)) !== 0) return this.parseToken();
    if (code === 0x3a /* : */) return this.parseByteSequence();
    if (code === 0x3f /* ? */) return this.parseBoolean();
    return false;
  }

  /** §4.2.4: an Integer (up to 15 digits) or a Decimal (up to 12 digits, a dot, 1–3 digits). */
  private parseNumber(): boolean {
    const input = this.input;
    let sign = 1;
    if (input.charCodeAt(this.at) === 0x2d) {
      sign = -1;
      this.at++;
    }
    if ((classOf(input.charCodeAt(this.at)) & DIGIT) === 0) return false;
    const start = this.at;
    let dot = -1;
    let value = 0;
    for (; this.at < input.length; this.at++) {
      const code = input.charCodeAt(this.at);
      if ((classOf(code) & DIGIT) !== 0) {
        value = value * 10 + (code - 0x30);
      } else if (code === 0x2e /* . */ && dot < 0) {
        if (this.at - start > 12) return false;
        dot = this.at;
      } else {
        break;
      }
    }
    const length = this.at - start;
    if (dot < 0) {
      if (length > 15) return false;
      this.itemKind = ITEM_INTEGER;
      this.itemValue = sign * value;
      return true;
    }
    const fraction = this.at - dot - 1;
    return length <= 16 && fraction >= 1 && fraction <= 3;
  }

  /** §4.2.5: printable ASCII between quotes; only `\"` and `\\` escapes. */
  private parseString(): boolean {
    const input = this.input;
    this.at++;
    while (this.at < input.length) {
      const code = input.charCodeAt(this.at++);
      if (code === 0x5c /* \ */) {
        const escaped = input.charCodeAt(this.at++);
        if (escaped !== 0x22 && escaped !== 0x5c) return false;
      } else if (code === 0x22) {
        return true;
      } else if (code < 0x20 || code > 0x7e) {
        return false;
      }
    }
    return false;
  }

  /** §4.2.6: ALPHA or `*`, then tchar, `:` and `/`. */
  private parseToken(): boolean {
    const input = this.input;
    this.at++;
    while (this.at < input.length) {
      const code = input.charCodeAt(this.at);
      if ((classOf(code) & (LCALPHA | UCALPHA | DIGIT | TCHAR_REST)) === 0 && code !== 0x3a && code !== 0x2f) break;
      this.at++;
    }
    return true;
  }

  /** §4.2.7: base64 characters between colons. */
  private parseByteSequence(): boolean {
    const input = this.input;
    this.at++;
    while (this.at < input.length) {
      const code = input.charCodeAt(this.at++);
      if (code === 0x3a) return true;
      if ((classOf(code) & BASE64) === 0) return false;
    }
    return false;
  }

  /** §4.2.8: `?1` or `?0`. */
  private parseBoolean(): boolean {
    const code = this.input.charCodeAt(this.at + 1);
    if (code !== 0x30 && code !== 0x31) return false;
    this.at += 2;
    this.itemKind = ITEM_BOOLEAN;
    this.itemValue = code - 0x30;
    return true;
  }

  private skipSpaces(): void {
    while (this.input.charCodeAt(this.at) === 0x20) this.at++;
  }

  /** OWS: spaces and tabs (RFC 9110 §5.6.3), allowed around a Dictionary's commas. */
  private skipOptionalWhitespace(): void {
    for (
      let code = this.input.charCodeAt(this.at);
      code === 0x20 || code === 0x09;
      code = this.input.charCodeAt(this.at)
    )
      this.at++;
  }
}

const PARSER = new DictionaryParser();
