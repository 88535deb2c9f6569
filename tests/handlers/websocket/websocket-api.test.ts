/**
 * The convenient WebSocket API and the acceptWebSocket seam, on the testing channel.
 */
import { expect } from 'chai';
import { PassThroughHandler, TestingChannel } from '../../../lib/index.js';
import { WebSocketConnection } from '../../../handlers/websocket/connection/websocket-connection.js';
import { WebSocket, type WebSocketMessage } from '../../../handlers/websocket/api/websocket.js';
import { acceptWebSocket } from '../../../handlers/websocket/api/accept.js';
import { WebSocketFrameEncoder } from '../../../handlers/websocket/wire/frame-encoder.js';
import { WebSocketFrameDecoder } from '../../../handlers/websocket/wire/frame-decoder.js';
import { Opcode } from '../../../handlers/websocket/wire/constants.js';

const client = new WebSocketFrameEncoder({ role: 'client' });

function frame(opcode: 1 | 2, payload: string | Buffer): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const target = Buffer.alloc(client.frameLength(bytes.length));
  client.writeDataFrame(target, 0, opcode, bytes);
  return target;
}

function closeFrame(code: number, reason = ''): Buffer {
  const target = Buffer.alloc(client.closeFrameLength(code, reason));
  client.writeClose(target, 0, code, reason);
  return target;
}

function pongFrame(payload: Uint8Array): Buffer {
  const target = Buffer.alloc(client.frameLength(payload.length));
  client.writePong(target, 0, payload);
  return target;
}

function setup(readWindowSize = 256 * 1024): { test: TestingChannel; socket: WebSocket } {
  const connection = new WebSocketConnection({ role: 'server', isManualWindow: true, readWindowSize });
  const socket = new WebSocket(connection);
  const test = new TestingChannel([connection]);
  return { test, socket };
}

/** Lets promise reactions run, then the loop, a bounded number of rounds. */
async function settle(test: TestingChannel): Promise<void> {
  for (let round = 0; round < 5; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    test.runUntilIdle();
  }
}

describe('WebSocket (API)', () => {
  it('iterates messages: text as strings, binary as bytes', async () => {
    const { test, socket } = setup();
    test.pushRead(Buffer.concat([frame(Opcode.TEXT, 'héllo'), frame(Opcode.BINARY, Buffer.from([1, 2]))]));
    test.pushRead(closeFrame(1000));
    test.flushWrites();
    const seen: WebSocketMessage[] = [];
    for await (const message of socket) seen.push(message);
    expect(seen[0]).to.equal('héllo');
    expect(seen[1]).to.be.instanceOf(Uint8Array);
    expect([...(seen[1] as Uint8Array)]).to.deep.equal([1, 2]);
    expect(seen.length).to.equal(2);
  });

  it('a message counts as consumed when the loop takes it: the read window follows', async () => {
    const { test, socket } = setup(1024);
    const one = frame(Opcode.BINARY, Buffer.alloc(700));
    test.pushRead(Buffer.concat([one, one, one, one]));
    expect(test.bufferedReadBytes).to.be.greaterThan(0);
    const iterator = socket[Symbol.asyncIterator]();
    let count = 0;
    for (let round = 0; round < 20 && count < 4; round++) {
      const result = await iterator.next();
      if (result.done === true) break;
      count++;
      test.runUntilIdle();
    }
    expect(count).to.equal(4);
    expect(test.bufferedReadBytes).to.equal(0);
  });

  it('send resolves once the message was written; after close() it rejects', async () => {
    const { test, socket } = setup();
    let isSent = false;
    const sent = socket.send('x').then(() => (isSent = true));
    await settle(test);
    expect(test.pendingWriteCount).to.equal(1);
    expect(isSent).to.equal(false);
    test.completeWrites();
    await sent;
    expect(isSent).to.equal(true);
    void socket.close(1000);
    let error: unknown = null;
    await socket.send('late').catch((caught: unknown) => (error = caught));
    expect(error).to.have.property('code', 'WEBSOCKET_CONNECTION_CLOSED');
  });

  it('close() resolves with the close event; the close event fires once', async () => {
    const { test, socket } = setup();
    const events: number[] = [];
    socket.on('close', (event) => events.push(event.code));
    const closing = socket.close(4000, 'bye');
    await settle(test);
    test.flushWrites();
    test.pushRead(closeFrame(4000, 'ok'));
    test.flushWrites();
    const event = await closing;
    expect(event).to.deep.equal({ code: 4000, reason: 'ok', wasClean: true, error: null });
    expect(events).to.deep.equal([4000]);
    expect(socket.readyState).to.equal('closed');
  });

  it('close() rejects a code that may not be sent, changing nothing', async () => {
    const { socket } = setup();
    let error: unknown = null;
    await socket.close(1006).catch((caught: unknown) => (error = caught));
    expect(error).to.have.property('code', 'WEBSOCKET_INVALID_OUTGOING_CLOSE_CODE');
    expect(socket.readyState).to.equal('open');
  });

  it('ping() resolves with the round trip on the loop clock', async () => {
    const { test, socket } = setup();
    const rtt = socket.ping();
    test.runUntilIdle();
    let payload: Buffer | null = null;
    const decoder = new WebSocketFrameDecoder(
      {
        onData: () => undefined,
        onPing: (data, start, end) => (payload = Buffer.from(data.subarray(start, end))),
        onPong: () => undefined,
        onClose: () => undefined,
      },
      { role: 'client' },
    );
    decoder.decode(test.takeWritten());
    test.completeWrites();
    expect(payload).to.not.equal(null);
    test.advance(25);
    test.pushRead(pongFrame(payload!));
    expect(await rtt).to.equal(25);
  });

  it('ping() rejects when the connection ends before the pong', async () => {
    const { test, socket } = setup();
    const rtt = socket.ping();
    test.runUntilIdle();
    test.peerClose();
    let error: unknown = null;
    await rtt.catch((caught: unknown) => (error = caught));
    expect(error).to.have.property('code', 'IO_SOCKET_CLOSED');
    expect((await socket.closed).code).to.equal(1006);
  });
});

describe('acceptWebSocket', () => {
  it('replaces the handler in its slot and decodes the handed-over bytes first', async () => {
    const test = new TestingChannel([new PassThroughHandler()]);
    const slot = test.slot;
    const socket = acceptWebSocket(slot, { role: 'server', perMessageDeflate: null }, frame(Opcode.TEXT, 'early'));
    expect(test.channel.slots().map((each) => each.handler)).to.include(socket.connection);
    test.pushRead(frame(Opcode.TEXT, 'late'));
    const iterator = socket[Symbol.asyncIterator]();
    expect((await iterator.next()).value).to.equal('early');
    expect((await iterator.next()).value).to.equal('late');
    socket.connection.channelSlot?.channel.shutdown(null, true);
    test.runUntilIdle();
    expect(test.messagePool.outstanding).to.equal(0);
  });
});
