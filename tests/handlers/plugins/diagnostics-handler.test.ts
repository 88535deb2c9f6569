import { expect } from 'chai';
import diagnosticsChannel from 'node:diagnostics_channel';
import { IoErrors, SluiceError, TestingChannel } from '../../../handlers/index.js';
import {
  DiagnosticsChannelNames,
  DiagnosticsHandler,
  type Http2FrameMessage,
  type Http2StreamFinishedMessage,
  type Http2StreamStartedMessage,
} from '../../../handlers/plugins/index.js';
import { clientBytes, serverBytes, splitAtRandomPoints } from './http2-wire.js';

/** Subscribes to every sluice channel for the duration of `body`, collecting `[name, message]`. */
function withSubscribers(
  names: readonly string[],
  body: (events: Array<[string, unknown]>) => void,
): Array<[string, unknown]> {
  const events: Array<[string, unknown]> = [];
  const subscribers = names.map((name) => {
    const subscriber = (message: unknown): void => {
      events.push([name, message]);
    };
    diagnosticsChannel.subscribe(name, subscriber);
    return [name, subscriber] as const;
  });
  try {
    body(events);
  } finally {
    for (const [name, subscriber] of subscribers) diagnosticsChannel.unsubscribe(name, subscriber);
  }
  return events;
}

const ALL = Object.values(DiagnosticsChannelNames);

describe('DiagnosticsHandler', () => {
  it('publishes connection opened and closed with the channel and the error', () => {
    const events = withSubscribers(
      [DiagnosticsChannelNames.CONNECTION_OPENED, DiagnosticsChannelNames.CONNECTION_CLOSED],
      () => {
        const test = new TestingChannel([new DiagnosticsHandler()]);
        test.peerClose();
      },
    );
    expect(events.map(([name]) => name)).to.deep.equal(['sluice:connection:opened', 'sluice:connection:closed']);
    const closed = events[1][1] as { channelId: number; error: SluiceError | null };
    expect(closed.error?.code).to.equal(IoErrors.SOCKET_CLOSED.code);
  });

  it('publishes frames received and sent, and streams started and finished, from the wire', () => {
    const events = withSubscribers(ALL, () => {
      const test = new TestingChannel([new DiagnosticsHandler({ role: 'server' })]);
      for (const piece of splitAtRandomPoints(clientBytes(), 3)) test.pushRead(piece);
      test.pushWrite(serverBytes());
      test.completeWrites();
      test.shutdown();
    });
    const received = events
      .filter(([name]) => name === 'sluice:http2:frame:received')
      .map(([, m]) => (m as Http2FrameMessage).typeName);
    expect(received).to.deep.equal(['SETTINGS', 'HEADERS', 'CONTINUATION', 'DATA', 'HEADERS', 'PING', 'WINDOW_UPDATE']);
    const sent = events.filter(([name]) => name === 'sluice:http2:frame:sent').map(([, m]) => m as Http2FrameMessage);
    expect(sent.map((m) => `${m.typeName}:${m.streamId}:${m.length}`)).to.deep.equal([
      'SETTINGS:0:6',
      'SETTINGS:0:0',
      'HEADERS:1:3',
      'DATA:1:2',
      'RST_STREAM:3:4',
      'GOAWAY:0:8',
    ]);
    const started = events
      .filter(([name]) => name === 'sluice:http2:stream:started')
      .map(([, m]) => m as Http2StreamStartedMessage);
    expect(started.map((m) => [m.streamId, m.initiator])).to.deep.equal([
      [1, 'remote'],
      [3, 'remote'],
    ]);
    const finished = events
      .filter(([name]) => name === 'sluice:http2:stream:finished')
      .map(([, m]) => m as Http2StreamFinishedMessage);
    expect(finished.map((m) => [m.streamId, m.reason, m.errorCode])).to.deep.equal([
      [1, 'end-stream', null],
      [3, 'reset', 7],
    ]);
    expect(events.at(-1)![0]).to.equal('sluice:connection:closed');
  });

  it('finishes streams still open when the connection closes', () => {
    const events = withSubscribers([DiagnosticsChannelNames.HTTP2_STREAM_FINISHED], () => {
      const test = new TestingChannel([new DiagnosticsHandler({ role: 'server' })]);
      test.pushRead(clientBytes());
      test.peerClose();
    });
    expect(
      events.map(([, m]) => [(m as Http2StreamFinishedMessage).streamId, (m as Http2StreamFinishedMessage).reason]),
    ).to.deep.equal([
      [1, 'connection-closed'],
      [3, 'connection-closed'],
    ]);
  });

  it('does not follow HTTP/2 at all when nobody subscribed as the connection opened', () => {
    const handler = new DiagnosticsHandler();
    const test = new TestingChannel([handler]);
    expect(handler.isFollowingHttp2).to.equal(false);
    test.pushRead(clientBytes());
    expect(test.takeRead().equals(clientBytes())).to.equal(true);
  });

  it('never changes traffic, even when it is not HTTP/2', () => {
    const events = withSubscribers(ALL, () => {
      const test = new TestingChannel([new DiagnosticsHandler({ http2: 'always' })]);
      test.pushRead('hello, not http/2');
      expect(test.takeRead().toString()).to.equal('hello, not http/2');
      expect(test.channel.isShuttingDown).to.equal(false);
    });
    expect(events.map(([name]) => name)).to.deep.equal(['sluice:connection:opened']);
  });
});
