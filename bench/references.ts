/**
 * The C reference servers, h2o and nghttpd, measured beside sluice's benchmark server on the
 * small-GET loads: h2c c10 m10, h2c c100 m10 and TLS c10 m10 for server CPU per request (the
 * issue-25 gate: sluice ≤ 1.0× h2o's; issue 8's: ≤ 1.43× nghttpd's), and h2c c1 m1 for
 * requests per second. Each load runs its servers in turn within every round, the order
 * rotated from round to round, so all of them see the same machine: a figure taken minutes
 * apart moves by ±10 %, more than the margins the gates judge.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freeLoopbackPort,
  pinned,
  waitUntilListening,
  type BenchRowOptions,
  type RunningServer,
} from './bench-processes.js';
import { median, runH2loadAgainst, smallGetLoads, type Sample } from './h2load.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The certificate and key sluice's TLS benchmark server uses (`bench/servers/routes.ts`), as files. */
const TLS_FILES = {
  cert: join(here, '..', '..', 'tests', 'fixtures', 'tls', 'server-cert.pem'),
  key: join(here, '..', '..', 'tests', 'fixtures', 'tls', 'server-key.pem'),
};

/** A C server measured beside sluice: how to start it, pinned to core 0, serving `/small`. */
export interface ReferenceServer {
  /** Its name in the table. */
  readonly name: string;
  /** sluice's CPU per request against it that an issue set as the target, or null. */
  readonly cpuTarget: number | null;
  /** Which issue set the target. */
  readonly targetSource: string;
  /** Starts it serving the files of `root` on `port`, over TLS (ALPN h2) with `isTls`, else h2c. */
  start(root: string, port: number, isTls: boolean): ChildProcess;
}

/**
 * The C references. h2o: one worker thread, access log off, the file served from disk like
 * nghttpd's (issue 25 asks sluice ≤ 1.0× its CPU per request). nghttpd: the issue-8 target
 * "≤ 3 µs" was set where nghttpd took ≈ 2.1 µs, so it is judged as sluice ≤ 1.43× nghttpd. Over TLS
 * h2o signs its handshakes in a helper process (neverbleed) whose CPU is not counted: ten
 * handshakes per run, a few µs against each run's hundreds of milliseconds.
 */
export const REFERENCE_SERVERS: readonly ReferenceServer[] = [
  {
    name: 'h2o',
    cpuTarget: 1.0,
    targetSource: 'issue 25',
    start: (root, port, isTls) => {
      const config = join(root, 'h2o.conf');
      const asRoot = process.getuid?.() === 0 ? 'user: root\n' : '';
      // h2o offers ALPN h2 by default; OCSP stapling is off, as the test certificate has no responder.
      const ssl = isTls
        ? `  ssl:\n    certificate-file: ${TLS_FILES.cert}\n    key-file: ${TLS_FILES.key}\n    ocsp-update-interval: 0\n`
        : '';
      writeFileSync(
        config,
        `${asRoot}pid-file: ${root}/h2o.pid\nerror-log: ${root}/error.log\naccess-log: /dev/null\nnum-threads: 1\n` +
          `listen:\n  host: 127.0.0.1\n  port: ${port}\n${ssl}hosts:\n  default:\n    paths:\n      /:\n        file.dir: ${root}\n`,
      );
      const [command, commandArgs] = pinned(0, 'h2o', ['-c', config]);
      return spawn(command, commandArgs, { stdio: 'ignore' });
    },
  },
  {
    name: 'nghttpd',
    cpuTarget: 1.43,
    targetSource: 'issue 8',
    start: (root, port, isTls) => {
      const serverArgs = isTls
        ? ['-d', root, String(port), TLS_FILES.key, TLS_FILES.cert]
        : ['--no-tls', '-d', root, String(port)];
      const [command, commandArgs] = pinned(0, 'nghttpd', serverArgs);
      return spawn(command, commandArgs, { stdio: 'ignore' });
    },
  },
];

/** A temporary folder holding `small`, a 25-byte file, for a reference server to serve. */
function referenceRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  writeFileSync(join(root, 'small'), 'hello from the C server!\n');
  return root;
}

/**
 * Starts a reference server (h2c, or TLS with `isTls`) and waits for it to accept connections
 * (a second port if the first was taken meanwhile).
 */
export async function startReference(
  reference: ReferenceServer,
  isTls = false,
  isRetry = false,
): Promise<{ port: number; child: ChildProcess }> {
  const port = await freeLoopbackPort();
  const child = reference.start(referenceRoot(), port, isTls);
  if (await waitUntilListening(port, child)) return { port, child };
  child.kill('SIGKILL');
  if (!isRetry) return startReference(reference, isTls, true);
  throw new Error(`${reference.name} did not listen on port ${port}`);
}

/** A small-GET load the C servers are measured on, and what their rows compare. */
interface ReferenceLoad {
  /** The name of sluice's row with the same load (`small GET h2c c10 m10`). */
  readonly name: string;
  readonly isTls: boolean;
  readonly h2load: readonly string[];
  /**
   * `cpu`: server CPU per request, judged against the reference's target. `req/s`: at c1 m1 the
   * rate measures how fast the kernel wakes each side more than the server's code, and a C
   * server that spends a few µs per request shows where that floor lies on the machine.
   */
  readonly compares: 'cpu' | 'req/s';
}

function referenceLoads(isQuick: boolean): ReferenceLoad[] {
  const loads = smallGetLoads(isQuick);
  return [
    { name: 'small GET h2c c10 m10', isTls: false, h2load: loads.tenByTen, compares: 'cpu' },
    { name: 'small GET h2c c100 m10', isTls: false, h2load: loads.hundredByTen, compares: 'cpu' },
    { name: 'small GET TLS c10 m10', isTls: true, h2load: loads.tenByTen, compares: 'cpu' },
    { name: 'small GET h2c c1 m1', isTls: false, h2load: loads.single, compares: 'req/s' },
  ];
}

/** The name of the row comparing sluice with `reference` on `load`. */
function rowName(reference: ReferenceServer, load: ReferenceLoad): string {
  return `reference: ${reference.name}, ${load.name}`;
}

/** One server's runs of a load: medians and range, as the other bench rows summarise theirs. */
interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly cpuMicrosPerRequest: number;
  readonly failed: number;
  /** What h2load's TLS handshakes settled on, each distinct value once; empty over h2c. */
  readonly tls: string[];
}

function summarise(samples: readonly Sample[]): Summary {
  const rates = samples.map((sample) => sample.requestsPerSecond);
  return {
    median: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    cpuMicrosPerRequest: median(samples.map((sample) => sample.cpuMicrosPerRequest)),
    failed: samples.reduce((sum, sample) => sum + sample.failed, 0),
    tls: [...new Set(samples.flatMap((sample) => (sample.tls === null ? [] : [sample.tls])))],
  };
}

/** A server taking part in a load's rounds: sluice's or a reference's, and the path of its small response. */
interface Contender {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  readonly path: string;
}

/** What {@link measureAgainstReferences} needs besides the run's options: sluice's running servers. */
export interface ReferenceRowOptions extends BenchRowOptions {
  /** sluice's h2c benchmark server. */
  readonly plain: RunningServer;
  /** sluice's TLS benchmark server (the same certificate as the references'). */
  readonly secure: RunningServer;
}

/**
 * Measures every reference load whose rows `options.only` selects (a row is selected when its
 * name, or sluice's row name of its load, contains it): sluice and the selected references in
 * turn within each round, `options.repetitions` rounds, the order rotated each round, each server
 * warmed with a tenth of the load first. Prints one line per (reference, load) and returns the
 * rows for the results file.
 */
export async function measureAgainstReferences(options: ReferenceRowOptions): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const load of referenceLoads(options.isQuick)) {
    const references = REFERENCE_SERVERS.filter(
      (reference) =>
        options.only === undefined ||
        rowName(reference, load).includes(options.only) ||
        load.name.includes(options.only),
    );
    if (references.length > 0) rows.push(...(await measureLoad(load, references, options)));
  }
  return rows;
}

async function measureLoad(
  load: ReferenceLoad,
  references: readonly ReferenceServer[],
  options: ReferenceRowOptions,
): Promise<Record<string, unknown>[]> {
  const sluice = load.isTls ? options.secure : options.plain;
  const started: ChildProcess[] = [];
  const samples = new Map<string, Sample[]>();
  const url = (contender: Contender): string =>
    `${load.isTls ? 'https' : 'http'}://127.0.0.1:${contender.port}${contender.path}`;
  try {
    const contenders: Contender[] = [{ name: 'sluice', port: sluice.port, pid: sluice.pid, path: '/' }];
    for (const reference of references) {
      const { port, child } = await startReference(reference, load.isTls);
      started.push(child);
      contenders.push({ name: reference.name, port, pid: child.pid!, path: '/small' });
    }
    const warm = load.h2load.map((arg, i, all) => (all[i - 1] === '-n' ? String(Math.ceil(Number(arg) / 10)) : arg));
    for (const contender of contenders) runH2loadAgainst(warm, url(contender), contender.pid);
    for (let run = 0; run < options.repetitions; run++) {
      for (let i = 0; i < contenders.length; i++) {
        const contender = contenders[(run + i) % contenders.length];
        const sample = runH2loadAgainst(load.h2load, url(contender), contender.pid);
        samples.set(contender.name, [...(samples.get(contender.name) ?? []), sample]);
      }
    }
  } finally {
    for (const child of started) child.kill('SIGTERM');
  }
  const ours = summarise(samples.get('sluice')!);
  return references.map((reference) => reportRow(load, reference, ours, summarise(samples.get(reference.name)!)));
}

function formatRate(requestsPerSecond: number): string {
  return `${Math.round(requestsPerSecond).toLocaleString('en-US')} req/s`;
}

/** Prints the line of `reference` on `load` and returns its row for the results file. */
function reportRow(
  load: ReferenceLoad,
  reference: ReferenceServer,
  ours: Summary,
  theirs: Summary,
): Record<string, unknown> {
  const name = reference.name;
  // No ratio when every request to the reference failed (its figures are then 0).
  const ratio = theirs.median > 0 ? ours.median / theirs.median : null;
  const cpuRatio = theirs.cpuMicrosPerRequest > 0 ? ours.cpuMicrosPerRequest / theirs.cpuMicrosPerRequest : null;
  const cpuTarget = load.compares === 'cpu' ? reference.cpuTarget : null;
  const figures = (summary: Summary): string =>
    load.compares === 'cpu'
      ? `${summary.cpuMicrosPerRequest.toFixed(2)} µs/req (${formatRate(summary.median)})`
      : `${formatRate(summary.median)} (${summary.cpuMicrosPerRequest.toFixed(2)} µs/req)`;
  const verdict =
    load.compares === 'cpu'
      ? `${cpuRatio?.toFixed(2) ?? '–'}× ${name}'s CPU per request` +
        (cpuTarget === null ? '' : ` (target ≤ ${cpuTarget.toFixed(2)}×, ${reference.targetSource})`)
      : `${ratio?.toFixed(2) ?? '–'}× ${name}'s req/s`;
  const failed = ours.failed + theirs.failed > 0 ? ` (failed: sluice ${ours.failed}, ${name} ${theirs.failed})` : '';
  // h2load offers one suite and one group, so both sides settle on the same or fail; say so if not.
  const tlsMismatch =
    ours.tls.length + theirs.tls.length > 0 && (ours.tls.length !== 1 || ours.tls.join() !== theirs.tls.join())
      ? ` (TLS differs: sluice ${ours.tls.join(' / ')}; ${name} ${theirs.tls.join(' / ')})`
      : '';
  process.stdout.write(
    `${rowName(reference, load).padEnd(42)} sluice ${figures(ours)} | ${name} ${figures(theirs)} | ${verdict}${failed}${tlsMismatch}\n`,
  );
  return {
    workload: rowName(reference, load),
    against: name,
    metric: 'req/s',
    compares: load.compares,
    sluice: ours,
    reference: theirs,
    ratio,
    cpuRatio,
    ...(cpuTarget === null ? {} : { targets: { cpu: cpuTarget }, targetSource: reference.targetSource }),
  };
}
