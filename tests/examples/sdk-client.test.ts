import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

describe('examples/sdk-client', () => {
  it('runs the KV SDK against its local server, retries the throttled calls and exits 0', async () => {
    const script = fileURLToPath(new URL('../../examples/sdk-client/main.js', import.meta.url));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).to.equal('');
    expect(code).to.equal(0);
    expect(stdout).to.include('get color → teal');
    expect(stdout).to.include('get size → large');
    expect(stdout).to.include('get missing → (none)');
    expect(stdout).to.match(/done: [1-9]\d* retries absorbed by the SDK/);
  });
});
