/**
 * The Go peers of the interop suite (`tests/interop/go/`): building them offline against
 * Debian's x/net, and reading the client's one-line summary.
 *
 * @module
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, run, show, tool, type ToolResult } from './processes.js';

/** Where Debian's golang-golang-x-net-dev puts the GOPATH tree Go's build reads. */
export const DEBIAN_GOPATH = '/usr/share/gocode';

/** The Go programs' sources. */
const SOURCES = path.join(REPO_ROOT, 'tests', 'interop', 'go');

/** Paths of the built Go programs. */
export interface GoPrograms {
  /** The x/net/http2 client (`h2client.go`). */
  client: string;
  /** The x/net/http2 server (`h2server.go`). */
  server: string;
}

/**
 * Builds `h2client.go` and `h2server.go` into `directory` in GOPATH mode (no module proxy, no
 * network: x/net comes from Debian's package). Throws naming the package when x/net is absent.
 * Call after `requireTools({ go: … })`.
 */
export async function buildGoPrograms(directory: string): Promise<GoPrograms> {
  if (!existsSync(path.join(DEBIAN_GOPATH, 'src', 'golang.org', 'x', 'net', 'http2'))) {
    throw new Error(
      `golang.org/x/net/http2 is missing from ${DEBIAN_GOPATH}; install it (apt-get install golang-golang-x-net-dev)`,
    );
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: `${path.join(directory, 'gopath')}${path.delimiter}${DEBIAN_GOPATH}`,
    GOCACHE: path.join(directory, 'go-cache'),
    GOFLAGS: '',
    GOPROXY: 'off',
  };
  const programs: GoPrograms = { client: path.join(directory, 'h2client'), server: path.join(directory, 'h2server') };
  for (const [name, output] of [
    ['h2client', programs.client],
    ['h2server', programs.server],
  ] as const) {
    const result = await run(tool('go'), ['build', '-o', output, path.join(SOURCES, `${name}.go`)], env);
    expect(result.code, show(`go build ${name}.go`, result)).to.equal(0);
  }
  return programs;
}

/** The JSON line `h2client` prints: counts by workload, distinct errors, GOAWAY frames seen. */
export interface GoClientSummary {
  mode: string;
  seed: number;
  ok: Record<string, number>;
  failed: Record<string, number>;
  retryable: number;
  finishedAfterGoaway: number;
  errors: Record<string, number>;
  retryableErrors: Record<string, number>;
  goaways: Record<string, number>;
  elapsedMs: number;
}

/** Parses the client's summary line; fails the test, with the client's output, when there is none. */
export function goClientSummary(result: ToolResult): GoClientSummary {
  const line = result.stdout.toString('utf8').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as GoClientSummary;
  } catch {
    expect.fail(show('h2client printed no JSON summary', result));
  }
}
