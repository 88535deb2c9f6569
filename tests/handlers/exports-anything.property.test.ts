/**
 * Every function and class every package entry exports (`sluice`, `sluice/runtime`, `/socket`,
 * `/tls`, `/http1`, `/http2`, `/http2/wire`, `/plugins`, `/sdk`, `/websocket`), called with arbitrary arguments
 * (fast-check's `anything`; classes with `new`): the call succeeds — a returned promise settles —
 * or it throws or rejects a `SluiceError` whose code docs/errors.md lists, and it opens no
 * connection and writes no byte (issue 18, item 8c). Arbitrary values carry no port by chance,
 * so nothing can connect; a listen that binds (an options object without a port listens on a
 * free one, as Node's does) is closed at once and must not stay open.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import net from 'node:net';
import * as root from '../../handlers/index.js';
import * as runtime from '../../lib/index.js';
import * as socketEntry from '../../handlers/socket/index.js';
import * as tlsEntry from '../../handlers/tls/index.js';
import * as http1Entry from '../../handlers/http1/index.js';
import * as http2Entry from '../../handlers/http2/index.js';
import * as wireEntry from '../../handlers/http2/wire/index.js';
import * as pluginsEntry from '../../handlers/plugins/index.js';
import * as sdkEntry from '../../handlers/sdk/index.js';
import * as websocketEntry from '../../handlers/websocket/index.js';
import { SluiceError } from '../../lib/index.js';
import { documentedErrorCodes } from '../support/error-codes.js';

/** The package's entries by the name a user imports, as their modules. */
const ENTRIES: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  sluice: root,
  'sluice/runtime': runtime,
  'sluice/socket': socketEntry,
  'sluice/tls': tlsEntry,
  'sluice/http1': http1Entry,
  'sluice/http2': http2Entry,
  'sluice/http2/wire': wireEntry,
  'sluice/plugins': pluginsEntry,
  'sluice/sdk': sdkEntry,
  'sluice/websocket': websocketEntry,
};

/**
 * The exports not called, each with why. Keep this short: an export belongs here only when a
 * check at its entry cannot be added in this change.
 */
const NOT_CALLED: ReadonlyMap<string, string> = new Map([
  // Asks the system resolver: an arbitrary string would be a real DNS query leaving the machine.
  // Its argument checks are tested in tests/lib/host-resolver.test.ts.
  ['dnsLookup', 'real DNS queries for arbitrary names'],
]);

const DOCUMENTED = new Set(documentedErrorCodes());
const ARGUMENTS = fc.array(fc.anything({ withNullPrototype: true, withBoxedValues: true }), { maxLength: 3 });
/** Runs per export: 50 keep the file under a second; `EXPORTS_RUNS=3000` shakes out rare cases. */
const RUNS = Number(process.env.EXPORTS_RUNS ?? 50);
/** How long a returned promise may take to settle, ms: nothing here waits on a peer. */
const SETTLE_MS = 2000;

/** Every function export once (entries re-export the same objects), with the names it has. */
function functionExports(): Map<(...args: unknown[]) => unknown, string[]> {
  const found = new Map<(...args: unknown[]) => unknown, string[]>();
  for (const [entry, module] of Object.entries(ENTRIES)) {
    for (const name of Object.keys(module)) {
      const value = module[name];
      if (typeof value !== 'function') continue;
      const names = found.get(value as (...args: unknown[]) => unknown) ?? [];
      names.push(`${entry}:${name}`);
      found.set(value as (...args: unknown[]) => unknown, names);
    }
  }
  return found;
}

function isClass(fn: (...args: unknown[]) => unknown): boolean {
  return /^class\b/.test(Function.prototype.toString.call(fn));
}

/** What the net spies saw: connections started, writes to sockets (not stdout/stderr), servers that listened. */
const net_ = { connects: 0, writes: 0, servers: [] as net.Server[] };

/** Closes whatever `value` is that can listen (a Listener, a server listener) and waits for it. */
async function closeIfListening(value: unknown): Promise<void> {
  const closable = value as { close?: unknown; server?: unknown } | null;
  if (typeof closable !== 'object' || closable === null) return;
  if (closable.server instanceof net.Server && typeof closable.close === 'function') {
    await (closable.close as () => Promise<void>).call(closable);
  }
}

/** Calls `fn` with `args` and judges the outcome; returns a description of what went wrong, or null. */
async function judge(fn: (...args: unknown[]) => unknown, args: unknown[]): Promise<string | null> {
  let failure: unknown = null;
  let settled: unknown = null;
  try {
    const result = isClass(fn) ? new (fn as unknown as new (...a: unknown[]) => unknown)(...args) : fn(...args);
    if (result instanceof Promise) {
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        result.then(
          (value: unknown) => ({ value }),
          (error: unknown) => ({ error }),
        ),
        new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), SETTLE_MS))),
      ]);
      clearTimeout(timer);
      if (outcome === 'pending') return `returned a promise that did not settle within ${SETTLE_MS} ms`;
      if ('error' in outcome) failure = outcome.error;
      else settled = outcome.value;
    } else {
      settled = result;
    }
  } catch (error) {
    failure = error;
  }
  await closeIfListening(settled);
  if (failure === null) return null;
  if (!(failure instanceof SluiceError)) return `threw ${failure instanceof Error ? failure.stack : typeof failure}`;
  if (!DOCUMENTED.has(failure.code)) return `threw ${failure.code}, which docs/errors.md does not list`;
  return null;
}

describe('every export of every entry with arbitrary arguments: success or a documented SluiceError, nothing opened or written (fast-check)', function () {
  this.timeout(120_000);
  const exports = functionExports();
  const restore: (() => void)[] = [];

  before(() => {
    // Spies on the only ways out of the process: a connect, a write, a listen. The originals are
    // called with Reflect.apply, as the prototype methods they are.
    const socketPrototype = net.Socket.prototype;
    const serverPrototype = net.Server.prototype;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with Reflect.apply on their receiver
    const { connect, write } = socketPrototype;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- likewise
    const { listen } = serverPrototype;
    socketPrototype.connect = function (this: net.Socket, ...args: unknown[]): net.Socket {
      net_.connects++;
      return Reflect.apply(connect, this, args) as net.Socket;
    };
    socketPrototype.write = function (this: net.Socket, ...args: unknown[]): boolean {
      // A log line on a piped stderr is a socket write too, and not a frame.
      if ((this as unknown) !== process.stderr && (this as unknown) !== process.stdout) net_.writes++;
      return Reflect.apply(write, this, args) as boolean;
    };
    serverPrototype.listen = function (this: net.Server, ...args: unknown[]): net.Server {
      net_.servers.push(this);
      return Reflect.apply(listen, this, args) as net.Server;
    };
    restore.push(() => {
      socketPrototype.connect = connect;
      socketPrototype.write = write;
      serverPrototype.listen = listen;
    });
  });
  after(() => restore.forEach((undo) => undo()));

  it('finds the exports of every entry, the wire codec among them', () => {
    expect(exports.size).to.be.greaterThan(60);
    const names = [...exports.values()].flat();
    for (const name of ['sluice/http2/wire:FrameDecoder', 'sluice/runtime:PassThroughHandler', 'sluice/sdk:Client']) {
      expect(names).to.include(name);
    }
  });

  it('exports none of the engine internals (issue 19)', () => {
    const internals = [
      'OutgoingFramesTask',
      'ControlFrameQueue',
      'ClosedStreams',
      'SmallFifo',
      'PendingWrites',
      'ReadQueue',
      'HEADER_LIST_TOO_LARGE',
      'completeWrite',
      'UNBOXED_NUMBER_FIELD',
      'HpackEncoder',
      'HpackDecoder',
      'writeFrameHeader',
    ];
    for (const [entry, module] of Object.entries(ENTRIES)) {
      expect(
        Object.keys(module).filter((name) => internals.includes(name)),
        entry,
      ).to.deep.equal([]);
    }
  });

  for (const [fn, names] of functionExports()) {
    const name = names[0].slice(names[0].indexOf(':') + 1);
    if (NOT_CALLED.has(name)) continue;
    it(`${names.join(', ')}`, async () => {
      await fc.assert(
        fc.asyncProperty(ARGUMENTS, async (args) => {
          const before = { connects: net_.connects, writes: net_.writes };
          const problem = await judge(fn, args);
          const shown = `${isClass(fn) ? 'new ' : ''}${name}(${args.map((arg) => fc.stringify(arg)).join(', ')})`;
          expect(problem, shown).to.equal(null);
          expect(net_.connects - before.connects, `${shown} connected`).to.equal(0);
          expect(net_.writes - before.writes, `${shown} wrote`).to.equal(0);
          const open = net_.servers.filter((server) => server.listening);
          expect(open.length, `${shown} left a server listening`).to.equal(0);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('lists in NOT_CALLED only names that are exported', () => {
    const names = new Set([...exports.values()].flat().map((name) => name.slice(name.indexOf(':') + 1)));
    for (const name of NOT_CALLED.keys()) expect(names.has(name), name).to.equal(true);
  });
});
