/**
 * The SDK-client example, run as a user runs it (`node dist/examples/sdk-client/main.js`):
 * retries, many concurrent requests on one connection, a per-call timeout and cancellation
 * with an `AbortSignal`, each checked in what it prints.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../examples/sdk-client/main.js', import.meta.url));

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(): Promise<Finished> {
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<Finished>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('examples/sdk-client', function () {
  this.timeout(30_000);
  let result: Finished;

  before(async () => {
    result = await run();
  });

  it('exits 0 with nothing on stderr', () => {
    expect(result.stderr).to.equal('');
    expect(result.code).to.equal(0);
  });

  it('stores and reads values, retrying the throttled write', () => {
    for (const line of [
      'put color = teal',
      'put shape = hexagon',
      'put size = large',
      'get color → teal',
      'get shape → hexagon',
      'get size → large',
      'get missing → (none)',
    ]) {
      expect(result.stdout).to.include(`${line}\n`);
    }
    expect(result.stdout).to.match(/ {2}retry after attempt 1: HTTP 503 \(throttling\), waiting \d+ ms\n/);
    expect(result.stdout).to.include('done: 1 retries absorbed by the SDK\n');
  });

  it('carries many concurrent requests as streams of one connection', () => {
    const match = /^concurrent: 30 gets, all right, up to (\d+) streams at once$/m.exec(result.stdout);
    expect(match, result.stdout).to.not.equal(null);
    expect(Number(match![1])).to.be.within(2, 30);
    expect(result.stdout).to.include('connections: 1 opened for 39 requests\n');
  });

  it('fails a call to a route that never answers with SDK_REQUEST_TIMEOUT when its timeoutMs passes', () => {
    expect(result.stdout).to.include('timeout: get stalled-1 with timeoutMs 200 → SDK_REQUEST_TIMEOUT\n');
  });

  it('fails an in-flight call with SDK_REQUEST_ABORTED when its AbortSignal fires, resetting the stream with CANCEL', () => {
    expect(result.stdout).to.include(
      'cancel: get stalled-2 aborted in flight → SDK_REQUEST_ABORTED (server saw HTTP2_CANCEL)\n',
    );
  });
});
