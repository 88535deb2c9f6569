/**
 * The bidirectional example, run as a user runs it (`node dist/examples/http2-bidi/main.js`):
 * it writes a message, reads its echo from a node:http2 server, writes the next, and prints
 * every echo and the server's trailers.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const examplePath = fileURLToPath(new URL('../../examples/http2-bidi/main.js', import.meta.url));

describe('examples/http2-bidi', function () {
  this.timeout(20_000);

  it('prints each echo in order and the server trailers counting three messages, exit 0', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [examplePath]);
    expect(stdout.trim().split('\n')).to.deep.equal([
      'echo: ping',
      'echo: how are you?',
      'echo: bye',
      'trailers: {"x-messages":"3"}',
    ]);
  });
});
