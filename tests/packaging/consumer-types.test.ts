/**
 * The published package type-checks in a consumer's project. The test packs the package as npm
 * would publish it (`npm pack`), unpacks it into a consumer's `node_modules/sluice`, and checks
 * a consumer importing every entry point with `skipLibCheck: false` — so every shipped `.d.ts`
 * is checked too — under the three module resolutions users configure: NodeNext, Bundler and
 * Node10 (which ignores `exports`; `typesVersions` maps the subpaths for it). The declarations
 * are emitted with `stripInternal`, so this also proves that no public type points at an
 * `@internal` one. It also checks what the tarball holds: the license, the `bin` script, no
 * tests, and no `@internal` declaration in any `.d.ts`.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';

const run = promisify(execFile);
/** The repository root, from `dist/tests/packaging/`. */
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The package's entry points, as `package.json` `exports` lists them (but `./package.json`). */
function entryPoints(): string[] {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, unknown>;
  };
  return Object.keys(manifest.exports)
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => (subpath === '.' ? 'sluice' : `sluice/${subpath.slice(2)}`));
}

/** A consumer using each entry point: one namespace import each, and a few named types. */
function consumerSource(entries: readonly string[]): string {
  const imports = entries.map((entry, index) => `import * as entry${index} from '${entry}';`);
  return [
    ...imports,
    "import { ChannelDirection, type ChannelHandler, type ChannelSlot, type IoMessage, type SluiceError } from 'sluice';",
    "import type { Http2Session } from 'sluice/http2';",
    "import type { Client } from 'sluice/sdk';",
    "import { FrameDecoder, FrameType, type FrameListener } from 'sluice/http2/wire';",
    '',
    'export class PassThrough implements ChannelHandler {',
    '  processReadMessage(slot: ChannelSlot, message: IoMessage): void { slot.sendMessage(message, ChannelDirection.READ); }',
    '  processWriteMessage(slot: ChannelSlot, message: IoMessage): void { slot.sendMessage(message, ChannelDirection.WRITE); }',
    '  incrementReadWindow(slot: ChannelSlot, size: number): void { slot.incrementReadWindow(size); }',
    '  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {',
    '    slot.onHandlerShutdownComplete(direction, error, free);',
    '  }',
    '  initialWindowSize(): number { return 65536; }',
    '  messageOverhead(): number { return 0; }',
    '}',
    'export type Used = [Http2Session, Client, FrameDecoder, FrameListener];',
    'export const headersType: number = FrameType.HEADERS;',
    `export const namespaces: object[] = [${entries.map((_, index) => `entry${index}`).join(', ')}];`,
    '',
  ].join('\n');
}

/** The compiler options of each mode; everything else is shared. */
const MODES: ReadonlyArray<{ readonly name: string; readonly options: ts.CompilerOptions }> = [
  { name: 'NodeNext', options: { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext } },
  { name: 'Bundler', options: { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler } },
  { name: 'Node10', options: { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Node10 } },
];

describe('the packed package in a consumer project', function () {
  this.timeout(120_000);
  let workspace = '';
  let consumer = '';
  let packedFiles: string[] = [];

  before(async () => {
    workspace = mkdtempSync(path.join(os.tmpdir(), 'sluice-pack-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', workspace], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    packedFiles = packed.files.map((file) => file.path);
    consumer = path.join(workspace, 'consumer');
    const installed = path.join(consumer, 'node_modules', 'sluice');
    mkdirSync(installed, { recursive: true });
    await run('tar', [
      '-xzf',
      path.join(workspace, path.basename(packed.filename)),
      '-C',
      installed,
      '--strip-components=1',
    ]);
    // The package's dependencies, and the Node types a consumer installs, from this checkout.
    for (const dependency of ['tsyringe', 'reflect-metadata', 'hpack.js', 'tslib', '@types/node']) {
      mkdirSync(path.dirname(path.join(consumer, 'node_modules', dependency)), { recursive: true });
      symlinkSync(path.join(root, 'node_modules', dependency), path.join(consumer, 'node_modules', dependency), 'dir');
    }
    writeFileSync(
      path.join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    writeFileSync(path.join(consumer, 'consumer.ts'), consumerSource(entryPoints()));
  });

  after(() => rmSync(workspace, { recursive: true, force: true }));

  it('holds the license, the bin script and the built entry points, and no tests', () => {
    expect(packedFiles).to.include.members([
      'LICENSE',
      'package.json',
      'bin/sluice',
      'dist/handlers/index.js',
      'dist/handlers/index.d.ts',
    ]);
    expect(packedFiles.filter((file) => file.startsWith('dist/tests/'))).to.deep.equal([]);
    expect(readFileSync(path.join(consumer, 'node_modules', 'sluice', 'LICENSE'), 'utf8'))
      .to.contain('Apache License')
      .and.to.contain('Version 2.0');
  });

  it('ships no @internal declaration (stripInternal) and declares every entry point', () => {
    const installed = path.join(consumer, 'node_modules', 'sluice');
    const declarations = readdirSync(path.join(installed, 'dist'), { recursive: true, encoding: 'utf8' }).filter(
      (file) => file.endsWith('.d.ts'),
    );
    const marked = declarations.filter((file) =>
      readFileSync(path.join(installed, 'dist', file), 'utf8').includes('@internal'),
    );
    expect(marked, 'declaration files that still carry @internal').to.deep.equal([]);
    expect(entryPoints()).to.include('sluice/http2/wire');
    expect(entryPoints()).to.include('sluice/http1');
    expect(entryPoints()).to.include('sluice/websocket');
  });

  for (const mode of MODES) {
    it(`type-checks a consumer of every entry point with skipLibCheck: false under ${mode.name} resolution`, () => {
      const program = ts.createProgram([path.join(consumer, 'consumer.ts')], {
        ...mode.options,
        target: ts.ScriptTarget.ES2022,
        lib: ['lib.es2023.d.ts'],
        types: ['node'],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        esModuleInterop: true,
      });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
        const where = diagnostic.file === undefined ? '' : `${path.relative(consumer, diagnostic.file.fileName)}: `;
        return `${where}${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
      });
      expect(diagnostics.join('\n')).to.equal('');
      const shipped = program.getSourceFiles().filter((file) => file.fileName.includes('/node_modules/sluice/dist/'));
      expect(shipped.length, 'declaration files of the package in the program').to.be.greaterThan(20);
    });
  }
});
