import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const mainPath = fileURLToPath(new URL('../../examples/line-protocol/main.js', import.meta.url));

/** Runs the example as a user would and collects its output and exit code. */
function runExample(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('examples/line-protocol', () => {
  it('starts server and client, exchanges the lines through the plugin pipelines and exits 0', async () => {
    const { code, stdout, stderr } = await runExample();
    expect(stderr).to.equal('');
    expect(code).to.equal(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).to.match(/^listening on tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(lines.slice(1)).to.deep.equal([
      '> hello',
      '< HELLO',
      '> line protocols over sluice',
      '< LINE PROTOCOLS OVER SLUICE',
      '> QUIT',
      '< BYE',
      'done: 3 lines exchanged',
    ]);
  });
});
