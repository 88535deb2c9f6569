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

/** Parses a whole number within `[min, max]`, or throws a usage error naming `flag`. */
export function parseInteger(flag: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw usageError(`${flag} must be a whole number from ${min} to ${max}, not '${text}'`);
  }
  return value;
}
