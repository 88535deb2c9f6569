import { expect } from 'chai';
import { createStreamLogger, LogLevel, setLogger, TestingChannel, noopLogger } from '../../../handlers/index.js';
import { FrameLoggerHandler, type FrameLoggerOptions } from '../../../handlers/plugins/index.js';
import { CLIENT_LINES, clientBytes, SERVER_LINES, serverBytes, splitAtRandomPoints } from './http2-wire.js';

function newLogger(options: FrameLoggerOptions = {}): { test: TestingChannel; lines: string[] } {
  const lines: string[] = [];
  const logger = new FrameLoggerHandler({ maxPayloadBytes: 4, ...options, sink: (line) => lines.push(line) });
  const test = new TestingChannel([logger]);
  return { test, lines };
}

/** Lines without the `channel N ` prefix. */
function bare(lines: readonly string[]): string[] {
  return lines.map((line) => line.replace(/^channel \d+ /, ''));
}

describe('FrameLoggerHandler', () => {
  for (const role of ['server', 'auto'] as const) {
    it(`logs one line per received frame, whole, with the stream split at random points (role ${role})`, () => {
      const bytes = clientBytes();
      for (let seed = 1; seed <= 25; seed++) {
        const { test, lines } = newLogger({ role });
        for (const piece of splitAtRandomPoints(bytes, seed)) test.pushRead(piece);
        expect(bare(lines), `seed ${seed}`).to.deep.equal(CLIENT_LINES);
        expect(Buffer.compare(test.takeRead(), bytes), 'traffic unchanged').to.equal(0);
      }
    });
  }

  it('logs the same lines when fed one byte at a time', () => {
    const { test, lines } = newLogger({ role: 'server' });
    const bytes = clientBytes();
    for (let i = 0; i < bytes.length; i++) test.pushRead(bytes.subarray(i, i + 1));
    expect(bare(lines)).to.deep.equal(CLIENT_LINES);
  });

  it('logs sent frames with direction send, and the client preface going out for a client', () => {
    const server = newLogger({ role: 'server' });
    for (const piece of splitAtRandomPoints(serverBytes(), 7)) server.test.pushWrite(piece);
    expect(bare(server.lines)).to.deep.equal(SERVER_LINES);
    expect(server.test.takeWritten().equals(serverBytes())).to.equal(true);
    server.test.completeWrites();

    const client = newLogger({ role: 'client' });
    client.test.pushWrite(clientBytes());
    expect(bare(client.lines)).to.deep.equal(CLIENT_LINES.map((line) => line.replace(/^recv/, 'send')));
    client.test.completeWrites();
  });

  it('prefixes lines with the channel id', () => {
    const { test, lines } = newLogger({ role: 'server' });
    test.pushRead(clientBytes());
    expect(lines[0]).to.equal(`channel ${test.channel.id} recv PREFACE length=24`);
  });

  it('shows no payload with maxPayloadBytes 0 and the whole payload when it fits', () => {
    const none = newLogger({ role: 'server', maxPayloadBytes: 0 });
    none.test.pushRead(clientBytes());
    expect(bare(none.lines)[1]).to.equal('recv SETTINGS flags=- stream=0 length=12');
    const all = newLogger({ role: 'server', maxPayloadBytes: 64 });
    all.test.pushRead(clientBytes());
    expect(bare(all.lines)[1]).to.equal('recv SETTINGS flags=- stream=0 length=12 payload=000200000000000400100000');
  });

  it('stops logging on a decode error but never touches the connection', () => {
    const { test, lines } = newLogger({ role: 'server' });
    const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    test.pushRead(garbage);
    test.pushRead(clientBytes());
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/recv decode error \(HTTP2_PROTOCOL_ERROR\): .*no more frames logged in this direction$/);
    expect(test.takeRead().equals(Buffer.concat([garbage, clientBytes()]))).to.equal(true);
    expect(test.channel.isShuttingDown).to.equal(false);
    // The other direction keeps logging.
    test.pushWrite(serverBytes());
    expect(bare(lines.slice(1))).to.deep.equal(SERVER_LINES);
    test.completeWrites();
  });

  it('writes through the process logger with subject http2-frames when no sink is given', () => {
    const written: string[] = [];
    setLogger(createStreamLogger(LogLevel.TRACE, { write: (line: string) => written.push(line) }));
    try {
      const test = new TestingChannel([new FrameLoggerHandler({ role: 'server' })]);
      test.pushRead(clientBytes());
    } finally {
      setLogger(noopLogger);
    }
    expect(written).to.have.length(CLIENT_LINES.length);
    expect(written[1]).to.match(
      / TRACE \[http2-frames\] channel \d+ recv SETTINGS flags=- stream=0 length=12 payload=/,
    );
  });

  it('respects the window of the handler to its right and leaves the pool balanced', () => {
    const lines: string[] = [];
    const test = new TestingChannel(
      [new FrameLoggerHandler({ role: 'server', maxPayloadBytes: 4, sink: (line) => lines.push(line) })],
      { applicationReadWindow: 30 },
    );
    const bytes = clientBytes();
    test.pushRead(bytes);
    expect(test.takeRead().length).to.equal(30);
    test.openReadWindow(bytes.length);
    expect(test.takeRead().length).to.equal(bytes.length - 30);
    expect(bare(lines)).to.deep.equal(CLIENT_LINES);
    test.shutdown();
    expect(test.messagePool.outstanding).to.equal(0);
  });
});
