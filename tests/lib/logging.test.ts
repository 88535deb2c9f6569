/**
 * The default logger: servers print WARN and above to stderr, clients print nothing,
 * `setLogger` replaces both. The logger is process-wide, so each case runs in a fresh child
 * process (`tests/fixtures/logging/default-logger.ts`) and the test reads its stderr.
 */
import { expect } from 'chai';
import { IoErrors, SluiceError, log, setLogger, type Logger } from '../../lib/index.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { createStreamLogger, LogLevel, SERVER_DEFAULT_LOG_LEVEL } from '../../lib/logging.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/logging/default-logger.js', import.meta.url));

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runScenario(scenario: string): Promise<Outcome> {
  const child = spawn(process.execPath, [FIXTURE, scenario], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** The lines of a stream logger's output: `time LEVEL [subject] message`. */
const LOG_LINE = /^\S+Z (FATAL|ERROR|WARN|INFO|DEBUG|TRACE) \[[^\]]+\] .+$/;

describe('logging defaults', function () {
  this.timeout(20_000);

  it('a server whose handler throws prints one WARN line to stderr by default', async () => {
    const outcome = await runScenario('server');
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(JSON.parse(outcome.stdout)).to.deep.equal({ status: 500, level: LogLevel.WARN });
    const lines = outcome.stderr.split('\n').filter((line) => line !== '');
    expect(lines, outcome.stderr).to.have.length(1);
    expect(lines[0]).to.match(LOG_LINE);
    expect(lines[0]).to.contain(' WARN [http2] ').and.to.contain('handler exploded');
  });

  it('a ServerBootstrap listener turns the WARN default on', async () => {
    const outcome = await runScenario('bootstrap');
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(JSON.parse(outcome.stdout)).to.deep.equal({ level: SERVER_DEFAULT_LOG_LEVEL });
  });

  it('client code prints nothing, even when its requests fail', async () => {
    const outcome = await runScenario('client');
    expect(outcome.code, outcome.stderr).to.equal(0);
    const result = JSON.parse(outcome.stdout) as { codes: string[]; level: number };
    expect(result.codes, 'the client met two failures').to.have.length(2);
    expect(result.codes[1]).to.equal('IO_CONNECTION_REFUSED');
    expect(result.level).to.equal(LogLevel.NONE);
    expect(outcome.stderr).to.equal('');
  });

  it('setLogger replaces the server default: lines go to the chosen logger, none to stderr', async () => {
    const outcome = await runScenario('replaced');
    expect(outcome.code, outcome.stderr).to.equal(0);
    const result = JSON.parse(outcome.stdout) as { status: number; lines: string[]; isChosen: boolean };
    expect(result.status).to.equal(500);
    expect(result.isChosen, 'listening kept the chosen logger').to.equal(true);
    expect(result.lines).to.have.length(1);
    expect(result.lines[0]).to.match(/^3 http2 .*handler exploded/);
    expect(outcome.stderr).to.equal('');
  });

  it('a stream logger drops levels above its own without formatting', () => {
    const written: string[] = [];
    const logger = createStreamLogger(LogLevel.WARN, { write: (line: string) => written.push(line) });
    logger.log(LogLevel.INFO, 'channel', 'routine');
    logger.log(LogLevel.ERROR, 'channel', 'failed');
    expect(written).to.have.length(1);
    expect(written[0].trimEnd()).to.match(LOG_LINE).and.to.contain('ERROR [channel] failed');
  });
});

describe('setLogger', () => {
  it('refuses what is not a logger with IO_INVALID_OPTIONS and keeps the logger it had', () => {
    const before = log;
    for (const notALogger of [
      undefined,
      null,
      'stderr',
      {},
      { level: 'warn', log: () => undefined },
      { level: LogLevel.WARN },
    ]) {
      expect(() => setLogger(notALogger as unknown as Logger), inspect(notALogger))
        .to.throw(SluiceError)
        .with.property('code', IoErrors.INVALID_OPTIONS.code);
      expect(log).to.equal(before);
    }
  });
});
