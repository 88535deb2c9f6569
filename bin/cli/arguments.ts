/**
 * Argument parsing shared by the commands: `node:util` `parseArgs` with its errors turned into
 * one-line usage errors, and checked numbers.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from './cli-errors.js';

/**
 * Parses a command line strictly (`config.strict` should be true): unknown flags, missing
 * values and unexpected positionals become usage errors (exit code 2) with one line each.
 */
export function parseCommandLine<const T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    // tsc needs the assertion to keep T's literal option types; typescript-eslint cannot see why.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    return parseArgs({ ...config, args: negativeNumbersAsValues(config) } as T);
  } catch (error) {
    throw usageError(parseErrorLine(error));
  }
}

/** A negative number, which a value-taking option takes as its value (`--busy-poll -1`). */
const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;

/**
 * `parseArgs` refuses `--busy-poll -1` as ambiguous (the value looks like an option). A
 * negative number cannot be one of our options, so it is joined to the string option before
 * it (`--busy-poll=-1`) and the option's own check reports the range.
 */
function negativeNumbersAsValues(config: ParseArgsConfig): string[] {
  const args = [...(config.args ?? process.argv.slice(2))];
  const options = config.options ?? {};
  const longNameOf = (flag: string): string | undefined => {
    if (flag.startsWith('--')) return Object.hasOwn(options, flag.slice(2)) ? flag.slice(2) : undefined;
    if (/^-[^-]$/.test(flag)) return Object.keys(options).find((name) => options[name].short === flag.slice(1));
    return undefined;
  };
  const joined: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    const next = args[index + 1];
    if (arg === '--') {
      joined.push(...args.slice(index));
      break;
    }
    const name = longNameOf(arg);
    if (name !== undefined && options[name].type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      joined.push(`--${name}=${next}`);
      index++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** The first sentence of a `parseArgs` error (Node appends hints that span lines). */
function parseErrorLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const quoted = /'([^']*)'/.exec(error.message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted !== undefined) return `unknown option '${quoted}'`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && quoted !== undefined) return `unexpected argument '${quoted}'`;
  const firstLine = error.message.split('\n')[0];
  const sentence = firstLine.split('. ')[0];
  return sentence.charAt(0).toLowerCase() + sentence.slice(1);
}

/**
 * The one URL positional of a client command, parsed: usage errors for none, more than one, one
 * that does not parse, a scheme not in `schemes` (`['http', 'https']`) or no host.
 */
export function parseUrlArgument(positionals: readonly string[], schemes: readonly string[]): URL {
  if (positionals.length === 0) throw usageError('missing URL');
  if (positionals.length > 1) throw usageError(`unexpected argument '${positionals[1]}'`);
  const text = positionals[0];
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`invalid URL '${text}'`);
  }
  const scheme = url.protocol.slice(0, -1);
  if (!schemes.includes(scheme)) throw usageError(`unsupported URL scheme '${scheme}' (${schemes.join(' or ')})`);
  if (url.hostname === '') throw usageError(`invalid URL '${text}': no host`);
  return url;
}

/** A header name: an RFC 9110 token, lowercase. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/**
 * Splits `-H 'Name: value'` into a lowercase name (a token) and a trimmed value (no CR, LF or
 * NUL), or throws a usage error.
 */
export function splitHeaderLine(line: string): [string, string] {
  const colon = line.indexOf(':', 1);
  if (colon < 0) throw usageError(`invalid header '${line}' (expected 'name: value')`);
  const name = line.slice(0, colon).trim().toLowerCase();
  const value = line.slice(colon + 1).trim();
  if (!HEADER_NAME.test(name)) throw usageError(`invalid header name '${line.slice(0, colon).trim()}'`);
  if (/[\r\n\0]/.test(value)) throw usageError(`invalid value for header '${name}'`);
  return [name, value];
}

/** Parses a whole number within `[min, max]`, or throws a usage error naming `flag`. */
export function parseInteger(flag: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw usageError(`${flag} must be a whole number from ${min} to ${max}, not '${text}'`);
  }
  return value;
}
