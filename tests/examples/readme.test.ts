/**
 * The README's TypeScript code blocks work. Each is kept as a runnable program in
 * `examples/readme/` (between `// README: begin` and `// README: end`), differing from the
 * README only by the adjustments listed here; the test proves the copy has not drifted from the
 * README, then runs the compiled program as a user would and checks what it prints.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root, from `dist/tests/examples/`. */
const root = new URL('../../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');

/** One README code block and the example program that carries it. */
interface ReadmeSnippet {
  /** The `## ` heading the block sits under. */
  readonly heading: string;
  /** The example, relative to the repository root (`.ts`; its `.js` runs from `dist/`). */
  readonly example: string;
  /** `[README text, example text]`: the only changes the copy may make. */
  readonly adjustments: ReadonlyArray<readonly [string, string]>;
  /** Exactly what the program prints. */
  readonly stdout: string;
}

const IMPORT_FROM_SOURCE: readonly [string, string] = ["from 'sluice';", "from '../../handlers/index.js';"];

const snippets: readonly ReadmeSnippet[] = [
  {
    heading: 'A handler in 20 lines',
    example: 'examples/readme/echo-handler',
    adjustments: [IMPORT_FROM_SOURCE, ['port: 7000', 'port: 0']],
    stdout: 'echoed: hello, echo handler\n',
  },
  {
    heading: 'HTTP/1.1 and HTTP/2 in a few lines',
    example: 'examples/readme/http2-hello',
    adjustments: [
      IMPORT_FROM_SOURCE,
      ['listen({ port: 8080 })', 'listen({ port: 0 })'],
      ["connect('http://127.0.0.1:8080'", 'connect(`http://127.0.0.1:${listener.port}`'],
    ],
    stdout: '200 hello /world over h2\n\n',
  },
];

/** The body of the one ```ts block under `## heading`. */
function readmeBlock(heading: string): string {
  const sectionStart = readme.indexOf(`\n## ${heading}\n`);
  expect(sectionStart, `README has no "## ${heading}" section`).to.not.equal(-1);
  const sectionEnd = readme.indexOf('\n## ', sectionStart + 1);
  const section = readme.slice(sectionStart, sectionEnd === -1 ? undefined : sectionEnd);
  const blocks = [...section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
  expect(blocks, `code blocks under "## ${heading}"`).to.have.length(1);
  return blocks[0];
}

/** The lines of `source` between the README markers, each line ending in a newline. */
function markedRegion(source: string): string {
  const begin = source.indexOf('// README: begin\n');
  const end = source.indexOf('// README: end\n');
  expect([begin, end].every((index) => index !== -1) && begin < end, 'README markers').to.equal(true);
  return source.slice(begin + '// README: begin\n'.length, end);
}

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runExample(example: string, args: readonly string[] = []): Promise<Finished> {
  const script = fileURLToPath(new URL(`dist/${example}.js`, root));
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<Finished>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('README.md code blocks', function () {
  this.timeout(30_000);

  for (const snippet of snippets) {
    describe(`"${snippet.heading}"`, () => {
      it(`is what ${snippet.example}.ts runs, but for the listed adjustments`, () => {
        let expected = readmeBlock(snippet.heading);
        for (const [readmeText, exampleText] of snippet.adjustments) {
          expect(expected.split(readmeText), `README block contains ${JSON.stringify(readmeText)} once`).to.have.length(
            2,
          );
          expected = expected.replace(readmeText, exampleText);
        }
        const source = readFileSync(new URL(`${snippet.example}.ts`, root), 'utf8');
        expect(markedRegion(source)).to.equal(expected);
      });

      it(`runs (node dist/${snippet.example}.js), prints what the README promises and exits 0`, async () => {
        const result = await runExample(snippet.example);
        expect(result.stderr).to.equal('');
        expect(result.code).to.equal(0);
        expect(result.stdout).to.equal(snippet.stdout);
      });
    });
  }

  describe('"A handler in 20 lines" against a peer that never reads', () => {
    /**
     * Loopback socket buffers on both sides hold a few MiB of echoes (Linux autotunes them up to
     * about 10 MiB); the handler's window adds 64 KiB. Reopening the window when the echo is
     * queued instead reads all 64 MiB the peer pushes.
     */
    const SERVER_READ_BOUND = 16 * 1024 * 1024;

    it('stops reading: the server reads a bounded amount of the 64 MiB pushed', async () => {
      const result = await runExample('examples/readme/echo-handler', ['--non-reading-peer']);
      expect(result.stderr).to.equal('');
      expect(result.code).to.equal(0);
      const { pushed, serverRead } = JSON.parse(result.stdout) as { pushed: number; serverRead: number };
      expect(pushed).to.equal(64 * 1024 * 1024);
      expect(serverRead, 'the server read something (the echo ran)').to.be.greaterThan(64 * 1024);
      expect(serverRead, 'bytes the server read while the peer pushed').to.be.below(SERVER_READ_BOUND);
    });
  });
});
