/**
 * The runtime publishes connection and HTTP/2 stream events on `diagnostics_channel` with no
 * plugin installed, only while someone listens (issue 18, item 20); the diagnostics plugin
 * adds frame events and never duplicates the connection's own stream events.
 */
import { expect } from 'chai';
import diagnosticsChannel from 'node:diagnostics_channel';
import { ConnectionDiagnostics, TestingChannel, type ConnectionClosedMessage } from '../../../lib/index.js';
import { ErrorCode } from '../../../handlers/http2/wire/constants.js';
import { Http2ServerConnection } from '../../../handlers/http2/connection/server-connection.js';
import {
  Http2StreamDiagnostics,
  type Http2StreamFinishedMessage,
  type Http2StreamStartedMessage,
} from '../../../handlers/http2/connection/stream-diagnostics.js';
import { DiagnosticsChannelNames, DiagnosticsHandler } from '../../../handlers/plugins/diagnostics-handler.js';
import { GET, OK, POST, PeerWriter, clientHarness, request, serverHarness } from './peer.js';

/** Collects `[channel name, message]` for `names` while `body` runs. */
function collect(names: readonly string[], body: () => void): Array<[string, unknown]> {
  const events: Array<[string, unknown]> = [];
  const subscribers = names.map((name) => [name, (message: unknown) => events.push([name, message])] as const);
  for (const [name, subscriber] of subscribers) diagnosticsChannel.subscribe(name, subscriber);
  try {
    body();
  } finally {
    for (const [name, subscriber] of subscribers) diagnosticsChannel.unsubscribe(name, subscriber);
  }
  return events;
}

const STREAM_EVENTS = [Http2StreamDiagnostics.STARTED, Http2StreamDiagnostics.FINISHED];

function describeStreams(events: Array<[string, unknown]>): string[] {
  return events.map(([name, message]) =>
    name === Http2StreamDiagnostics.STARTED
      ? `started ${(message as Http2StreamStartedMessage).streamId} ${(message as Http2StreamStartedMessage).initiator}`
      : `finished ${(message as Http2StreamFinishedMessage).streamId} ${(message as Http2StreamFinishedMessage).reason} ${(message as Http2StreamFinishedMessage).errorCode}`,
  );
}

describe('diagnostics_channel from the runtime, no plugin', () => {
  it('a channel publishes sluice:connection:opened and :closed with its error', () => {
    const events = collect([ConnectionDiagnostics.OPENED, ConnectionDiagnostics.CLOSED], () => {
      const h = serverHarness();
      h.tc.peerClose();
      h.flush();
    });
    expect(events.map(([name]) => name)).to.deep.equal([ConnectionDiagnostics.OPENED, ConnectionDiagnostics.CLOSED]);
    expect((events[1][1] as ConnectionClosedMessage).error?.code).to.equal('IO_SOCKET_CLOSED');
  });

  it('a server connection publishes its streams: started by the peer, finished by END_STREAM, by reset, by the connection closing', () => {
    const events = collect(STREAM_EVENTS, () => {
      const h = serverHarness();
      h.exchange(h.peer.headers(1, GET, { endStream: true }), h.peer.headers(3, POST), h.peer.headers(5, POST));
      h.received[0].stream.sendHeaders(OK, true);
      h.flush();
      h.exchange(h.peer.rstStream(3, ErrorCode.CANCEL));
      h.tc.peerClose();
      h.flush();
    });
    expect(describeStreams(events)).to.deep.equal([
      'started 1 remote',
      'started 3 remote',
      'started 5 remote',
      'finished 1 end-stream null',
      `finished 3 reset ${ErrorCode.CANCEL}`,
      'finished 5 connection-closed null',
    ]);
  });

  it('a client connection publishes the streams it opens', () => {
    const events = collect(STREAM_EVENTS, () => {
      const h = clientHarness();
      request(h);
      h.flush();
      h.exchange(h.peer.headers(1, OK, { endStream: true }));
      h.finish();
    });
    expect(describeStreams(events)).to.deep.equal(['started 1 local', 'finished 1 end-stream null']);
  });

  it('with the diagnostics plugin in front of the connection: frame events, and stream events once', () => {
    const events = collect(Object.values(DiagnosticsChannelNames), () => {
      const connection = new Http2ServerConnection({ onStream: (stream) => stream.sendHeaders(OK, true) });
      // The plugin sees the connection from its first byte, as in a pipeline.
      const tc = new TestingChannel([new DiagnosticsHandler({ role: 'server' }), connection]);
      const peer = new PeerWriter();
      tc.pushRead(
        Buffer.concat([peer.preface(), peer.settings(), peer.settingsAck(), peer.headers(1, GET, { endStream: true })]),
      );
      tc.flushWrites();
      tc.shutdown();
      tc.flushWrites();
    });
    const names = events.map(([name]) => name);
    expect(names.filter((name) => name === Http2StreamDiagnostics.STARTED)).to.have.length(1);
    expect(names.filter((name) => name === Http2StreamDiagnostics.FINISHED)).to.have.length(1);
    expect(names.filter((name) => name === DiagnosticsChannelNames.HTTP2_FRAME_RECEIVED).length).to.be.greaterThan(2);
    expect(names.filter((name) => name === DiagnosticsChannelNames.HTTP2_FRAME_SENT).length).to.be.greaterThan(2);
  });
});
