/**
 * The layering of the compiled package, read from the `.js` files `tsc` emits (so only value
 * imports count: type-only imports are erased). The runtime (`lib/`) never imports a handler,
 * and no module imports itself through a cycle: a cycle makes load order decide which side sees
 * the other's exports as `undefined`, and hides which layer depends on which.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `dist/`, from `dist/tests/packaging/`. */
const dist = fileURLToPath(new URL('../../', import.meta.url));

/** Every `.js` file under `dir`, as a path relative to `dist/`. */
function moduleFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(path.join(dist, dir), { withFileTypes: true })) {
    const relative = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...moduleFiles(relative));
    else if (entry.name.endsWith('.js')) found.push(relative);
  }
  return found;
}

/** The relative modules `file` imports or re-exports at load time, as paths relative to `dist/`. */
function importsOf(file: string): string[] {
  const source = readFileSync(path.join(dist, file), 'utf8');
  const specifiers = [...source.matchAll(/^\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]/gm)]
    .concat([...source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)])
    .map((match) => match[1]);
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)));
}

/** The cycles of the graph, each as the path that closes it (depth-first search, one per back edge). */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    trail.push(node);
    for (const next of graph.get(node) ?? []) {
      const seen = state.get(next);
      if (seen === 'open') cycles.push([...trail.slice(trail.indexOf(next)), next]);
      else if (seen === undefined) visit(next);
    }
    trail.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('the import graph of the compiled package', () => {
  const files = [...moduleFiles('lib'), ...moduleFiles('handlers')];
  const graph = new Map(files.map((file) => [file, importsOf(file)]));

  it('reads a graph of the whole package (the parser finds the imports)', () => {
    expect(files.length).to.be.greaterThan(50);
    expect(graph.get('handlers/index.js')).to.include('lib/index.js');
  });

  it('has lib/ import nothing from handlers/', () => {
    const upward = files
      .filter((file) => file.startsWith('lib/'))
      .flatMap((file) =>
        graph
          .get(file)!
          .filter((target) => target.startsWith('handlers/'))
          .map((t) => `${file} → ${t}`),
      );
    expect(upward).to.deep.equal([]);
  });

  it('has no value-level import cycle', () => {
    expect(findCycles(graph).map((cycle) => cycle.join(' → '))).to.deep.equal([]);
  });

  it('finds a cycle when there is one (the search itself)', () => {
    const cyclic = new Map([
      ['a.js', ['b.js']],
      ['b.js', ['c.js']],
      ['c.js', ['a.js']],
      ['d.js', ['a.js']],
    ]);
    expect(findCycles(cyclic)).to.deep.equal([['a.js', 'b.js', 'c.js', 'a.js']]);
  });
});
