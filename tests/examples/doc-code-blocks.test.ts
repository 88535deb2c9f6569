/**
 * Every TypeScript block (```ts, ```typescript) in README.md and docs/*.md type-checks against
 * the built package, imported as a user would (`'sluice'`, `'sluice/sdk'`, …). Each block is
 * written as its own module into a temporary project whose `node_modules/sluice` links to this
 * repository, and one TypeScript program checks them all (strict, NodeNext). A block that is a
 * fragment on purpose stands on {@link ALLOWED_FRAGMENTS} with its reason; the test counts the
 * blocks it checked so a block that stops being found (a fence typo) is noticed.
 */
import { expect } from 'chai';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The repository root, from `dist/tests/examples/`. */
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** One fenced TypeScript block of a Markdown file. */
interface CodeBlock {
  /** `README.md` or `docs/….md`. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The block's text. */
  readonly code: string;
}

/**
 * Blocks that are fragments by design, keyed by `file` and the block's first line. Each needs a
 * reason; an entry that no longer matches a block fails the test, so the list cannot go stale.
 */
const ALLOWED_FRAGMENTS: ReadonlyArray<{ readonly file: string; readonly firstLine: string; readonly reason: string }> =
  [];

/**
 * Modules blocks import by relative path (`./quota-handler.js`): the guides show an example's
 * class without repeating it. Each re-exports the built example's declarations.
 */
const SUPPORT_MODULES: Readonly<Record<string, string>> = {
  'quota-handler.ts': 'examples/plugin-testing/quota-handler.js',
  'line-codec.ts': 'examples/line-protocol/line-codec.js',
};

/** Blocks the test must find: update it when a guide gains or loses a TypeScript block. */
const EXPECTED_BLOCK_COUNT = 30;

function markdownFiles(): string[] {
  const docs = readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

function typeScriptBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = /^(\s*)```(\w*)\s*$/.exec(lines[index]);
    if (fence === null) continue;
    const end = lines.findIndex((text, at) => at > index && text.trim() === '```');
    expect(end, `${file}:${index + 1}: unclosed fence`).to.not.equal(-1);
    if (fence[2] === 'ts' || fence[2] === 'typescript') {
      const indent = fence[1].length;
      blocks.push({
        file,
        line: index + 1,
        code: lines
          .slice(index + 1, end)
          .map((text) => text.slice(indent))
          .join('\n'),
      });
    }
    index = end;
  }
  return blocks;
}

/** `file:line: message` for each diagnostic, mapped back to the Markdown line. */
function describeDiagnostics(
  diagnostics: readonly ts.Diagnostic[],
  blockOf: (fileName: string) => CodeBlock | undefined,
): Map<CodeBlock, string[]> {
  const byBlock = new Map<CodeBlock, string[]>();
  for (const diagnostic of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const block = diagnostic.file === undefined ? undefined : blockOf(diagnostic.file.fileName);
    if (block === undefined || diagnostic.file === undefined || diagnostic.start === undefined) {
      throw new Error(`type-checking the blocks failed outside any block: ${message}`);
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const list = byBlock.get(block) ?? [];
    list.push(`${block.file}:${block.line + 1 + line}: ${message}`);
    byBlock.set(block, list);
  }
  return byBlock;
}

describe('TypeScript blocks of README.md and docs/*.md', function () {
  this.timeout(60_000);
  let project = '';

  before(() => {
    project = mkdtempSync(path.join(os.tmpdir(), 'sluice-doc-blocks-'));
    mkdirSync(path.join(project, 'node_modules', '@types'), { recursive: true });
    symlinkSync(root, path.join(project, 'node_modules', 'sluice'), 'dir');
    symlinkSync(
      path.join(root, 'node_modules', '@types', 'node'),
      path.join(project, 'node_modules', '@types', 'node'),
      'dir',
    );
    for (const dependency of ['chai', '@types/chai']) {
      symlinkSync(path.join(root, 'node_modules', dependency), path.join(project, 'node_modules', dependency), 'dir');
    }
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'doc-blocks', private: true, type: 'module' }),
    );
    for (const [name, example] of Object.entries(SUPPORT_MODULES)) {
      writeFileSync(path.join(project, name), `export * from ${JSON.stringify(path.join(root, 'dist', example))};\n`);
    }
  });

  after(() => rmSync(project, { recursive: true, force: true }));

  it('type-check against the built package, but for the allow-listed fragments', () => {
    const blocks = markdownFiles().flatMap(typeScriptBlocks);
    const firstLine = (block: CodeBlock): string =>
      block.code
        .split('\n')
        .find((text) => text.trim() !== '')!
        .trim();
    const allowed = new Set(ALLOWED_FRAGMENTS.map((entry) => `${entry.file}\n${entry.firstLine}`));
    const matchedAllowances = new Set<string>();
    const checked: CodeBlock[] = [];
    for (const block of blocks) {
      const key = `${block.file}\n${firstLine(block)}`;
      if (allowed.has(key)) matchedAllowances.add(key);
      else checked.push(block);
    }
    expect(
      [...allowed].filter((key) => !matchedAllowances.has(key)),
      'allow-list entries that match no block',
    ).to.deep.equal([]);
    expect(checked.length, 'TypeScript blocks checked').to.equal(EXPECTED_BLOCK_COUNT);

    const fileOf = new Map<string, CodeBlock>();
    checked.forEach((block, index) => {
      const fileName = path.join(project, `block-${index}.ts`);
      // `export {}` makes every block a module of its own, so top-level names never collide.
      writeFileSync(fileName, `${block.code}\nexport {};\n`);
      fileOf.set(fileName, block);
    });
    const program = ts.createProgram([...fileOf.keys()], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2023.d.ts'],
      types: ['node', 'chai'],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
    });
    const failures = describeDiagnostics(ts.getPreEmitDiagnostics(program), (fileName) =>
      fileOf.get(path.resolve(fileName)),
    );
    expect([...failures.values()].flat().join('\n')).to.equal('');
  });
});
