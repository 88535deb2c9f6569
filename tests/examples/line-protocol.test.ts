import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TestingChannel } from '../../handlers/index.js';
import { LineCodec } from '../../examples/line-protocol/line-codec.js';

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

  describe('LineCodec and the downstream window', () => {
    /** A codec under an application end whose window holds `applicationWindow` bytes. */
    function codecUnder(applicationWindow: number): { test: TestingChannel; codec: LineCodec } {
      const codec = new LineCodec({ maxLineLength: 16 });
      return { test: new TestingChannel([codec], { applicationReadWindow: applicationWindow }), codec };
    }

    it('sends right only what the downstream window holds; the rest waits, in order', () => {
      const { test, codec } = codecUnder(8);
      test.pushRead('aaaa\nbbbb\ncccc\n');
      test.runUntilIdle();
      expect(test.takeRead().toString()).to.equal('aaaabbbb');
      expect(codec.waitingLineCount).to.equal(1);
      test.openReadWindow(4);
      test.runUntilIdle();
      expect(test.takeRead().toString()).to.equal('cccc');
      expect(codec.waitingLineCount).to.equal(0);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it("a line longer than the application's whole window is reported as a stall, not left silent (issue 18, item 18)", () => {
      const { test, codec } = codecUnder(8);
      test.pushRead('twelve bytes\n');
      test.runUntilIdle();
      expect(test.takeRead().length).to.equal(0);
      expect(codec.waitingLineCount).to.equal(1);
      expect(test.channel.windowStalls).to.be.greaterThan(0);
      // A window opened beyond its initial size lets it through after all.
      test.openReadWindow(8);
      test.runUntilIdle();
      expect(test.takeRead().toString()).to.equal('twelve bytes');
    });

    it('reopens its own window by the input of the lines it sent, not by what arrived', () => {
      const { test } = codecUnder(4);
      const codecSlot = test.applicationSlot.adjacentLeft!;
      const initial = codecSlot.windowSize;
      test.pushRead('abcd\r\nefgh\n');
      test.runUntilIdle();
      // 'abcd\r\n' (6 input bytes) went right; 'efgh\n' (5) waits for the application.
      expect(codecSlot.windowSize).to.equal(initial - 5);
      test.openReadWindow(4);
      test.runUntilIdle();
      expect(codecSlot.windowSize).to.equal(initial);
      expect(test.takeRead().toString()).to.equal('abcdefgh');
    });

    it('keeps what it holds within its own window while the application reads nothing', () => {
      const { test, codec } = codecUnder(0);
      const line = 'x'.repeat(15) + '\n';
      let pushed = 0;
      for (let round = 0; round < 10_000 && test.bufferedReadBytes === 0; round++) {
        test.pushRead(line);
        pushed += line.length;
        test.runUntilIdle();
      }
      expect(test.bufferedReadBytes, 'the socket end stopped being read').to.be.greaterThan(0);
      expect(codec.waitingLineCount * line.length).to.be.at.most(codec.initialWindowSize());
      expect(pushed).to.be.greaterThan(codec.initialWindowSize());
      test.shutdown();
      test.runUntilIdle();
      expect(test.messagePool.outstanding).to.equal(0);
    });
  });
});
