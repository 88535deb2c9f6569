/**
 * The progress meter of `sluice get` (`bin/cli/progress-meter.ts`) on a virtual event loop:
 * when it draws, what it draws, and that it stops.
 */
import { expect } from 'chai';
import { VirtualEventLoop } from '../../../handlers/index.js';
import { PROGRESS_INTERVAL_MS, ProgressMeter } from '../../../bin/cli/progress-meter.js';

/** A terminal that keeps what is written to it. */
function recordingTerminal(columns?: number): { writes: string[]; write(text: string): void; columns?: number } {
  const writes: string[] = [];
  return { writes, write: (text: string) => writes.push(text), ...(columns === undefined ? {} : { columns }) };
}

describe('progress meter', () => {
  it('draws nothing before its first interval, then redraws in place once per interval', () => {
    const loop = new VirtualEventLoop();
    const terminal = recordingTerminal();
    const meter = new ProgressMeter(loop, terminal);
    const download = meter.track('received', 1000);
    meter.start();
    download.add(100);
    loop.advance(PROGRESS_INTERVAL_MS - 1);
    expect(terminal.writes).to.deep.equal([]);
    loop.advance(1);
    expect(terminal.writes).to.deep.equal(['\rreceived 100 B of 1000 B   10%  400 B/s  0:03 left']);
    download.add(400);
    loop.advance(PROGRESS_INTERVAL_MS);
    expect(terminal.writes[1]).to.equal('\rreceived 500 B of 1000 B   50%  1000 B/s  0:01 left');
    meter.finish();
  });

  it('draws at most four times a second however many chunks arrive', () => {
    const loop = new VirtualEventLoop();
    const terminal = recordingTerminal();
    const meter = new ProgressMeter(loop, terminal);
    const download = meter.track('received', null);
    meter.start();
    for (let ms = 0; ms < 2000; ms++) {
      download.add(10);
      loop.advance(1);
    }
    expect(terminal.writes).to.have.length(2000 / PROGRESS_INTERVAL_MS);
    meter.finish();
  });

  it('ends with the final line and a newline, and draws nothing after', () => {
    const loop = new VirtualEventLoop();
    const terminal = recordingTerminal();
    const meter = new ProgressMeter(loop, terminal);
    const upload = meter.track('sent', 2048);
    const download = meter.track('received', null);
    meter.start();
    upload.add(2048);
    loop.advance(500);
    upload.end();
    download.setTotal(1024);
    download.add(1024);
    loop.advance(500);
    const before = terminal.writes.length;
    meter.finish();
    // One space clears the end of the line before, one character longer ('0:00 left').
    expect(terminal.writes.slice(before)).to.deep.equal([
      '\rsent 2.0 KiB of 2.0 KiB  100%  4.0 KiB/s  in 0.5 s  |  received 1.0 KiB of 1.0 KiB  100%  1.0 KiB/s  in 1.0 s ',
      '\n',
    ]);
    loop.advance(10_000);
    meter.finish();
    expect(terminal.writes).to.have.length(before + 2);
    expect(loop.pendingTaskCount).to.equal(0);
  });

  it('cuts lines to one column less than the terminal width', () => {
    const loop = new VirtualEventLoop();
    const terminal = recordingTerminal(30);
    const meter = new ProgressMeter(loop, terminal);
    const download = meter.track('received', null);
    meter.start();
    download.add(1000);
    loop.advance(PROGRESS_INTERVAL_MS);
    expect(terminal.writes[0]).to.equal('\rreceived 1000 B  3.9 KiB/s');
    meter.finish();
    expect(terminal.writes.slice(1)).to.deep.equal(['\rreceived 1000 B  3.9 KiB/s  i', '\n']);
  });

  it('writes nothing at all when no transfer was tracked', () => {
    const loop = new VirtualEventLoop();
    const terminal = recordingTerminal();
    const meter = new ProgressMeter(loop, terminal);
    meter.start();
    loop.advance(2000);
    meter.finish();
    expect(terminal.writes).to.deep.equal([]);
    expect(loop.pendingTaskCount).to.equal(0);
  });
});
