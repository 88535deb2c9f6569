import { expect } from 'chai';
import { ErrorCode } from '../../../handlers/http2/wire/constants.js';
import { Http2ApiErrors } from '../../../handlers/http2/errors.js';
import { GET, expectGoaway, frameNames, serverHarness } from './peer.js';

describe('HTTP/2 connection: timers', () => {
  describe('keep-alive', () => {
    it('sends a PING only after keepAliveIntervalMs without reads, and again after each ACK', () => {
      const h = serverHarness({ connection: { keepAliveIntervalMs: 1000, keepAliveTimeoutMs: 500 } });
      h.tc.advance(600);
      h.send(h.peer.headers(1, GET, { endStream: true })); // a read: the idle clock restarts
      h.received[0].stream.sendHeaders([':status', '204'], true);
      h.flush();
      h.tc.advance(900);
      expect(frameNames(h.flush())).to.deep.equal([]);
      h.tc.advance(200);
      const first = h.flush();
      expect(frameNames(first)).to.deep.equal(['PING:0']);
      const [high, low] = first[0].opaque!;
      h.tc.advance(100);
      expect(h.exchange(h.peer.ping(high, low, true))).to.deep.equal([]);
      h.tc.advance(1000);
      expect(frameNames(h.flush())).to.deep.equal(['PING:0']);
      expect(h.tc.isShutDown).to.equal(false);
      h.finish();
    });

    it('closes the connection with HTTP2_PING_TIMEOUT when the ACK does not come', () => {
      const h = serverHarness({ connection: { keepAliveIntervalMs: 1000, keepAliveTimeoutMs: 500 } });
      h.send(h.peer.headers(1, GET));
      const stream = h.received[0].stream;
      h.tc.advance(1000);
      expect(frameNames(h.flush())).to.include('PING:0');
      h.tc.advance(499);
      expect(h.tc.isShutDown).to.equal(false);
      h.tc.advance(1);
      h.flush();
      expect(h.tc.isShutDown).to.equal(true);
      expect(h.tc.shutdownError?.code).to.equal(Http2ApiErrors.PING_TIMEOUT.code);
      expect(h.connectionErrors.map((error) => (error as unknown as { code: string }).code)).to.deep.equal([
        Http2ApiErrors.PING_TIMEOUT.code,
      ]);
      expect(stream.isClosed).to.equal(true);
      h.finish();
    });

    it('sends no keep-alive PING when the option is off', () => {
      const h = serverHarness({ connection: { idleTimeoutMs: 0 } });
      h.tc.advance(3_600_000);
      expect(frameNames(h.flush())).to.deep.equal([]);
      h.finish();
    });
  });

  describe('write timeout', () => {
    it('closes without flushing when a write is not taken within writeTimeoutMs', () => {
      const h = serverHarness({ connection: { writeTimeoutMs: 2000 } });
      h.send(h.peer.headers(1, GET, { endStream: true }));
      h.received[0].stream.sendHeaders([':status', '200'], true);
      h.tc.runUntilIdle();
      expect(h.tc.pendingWriteCount).to.equal(1); // the peer never takes it
      h.tc.advance(1999);
      expect(h.tc.isShutDown).to.equal(false);
      h.tc.advance(1);
      expect(h.tc.shutdownError?.code).to.equal(Http2ApiErrors.WRITE_TIMEOUT.code);
      expect(h.tc.isShutDown).to.equal(true);
      h.finish();
    });

    it('measures each write from when it was sent', () => {
      const h = serverHarness({ connection: { writeTimeoutMs: 2000 } });
      for (let i = 0; i < 3; i++) {
        h.send(h.peer.headers(2 * i + 1, GET, { endStream: true }));
        h.received[i].stream.sendHeaders([':status', '200'], true);
        h.tc.runUntilIdle();
        h.tc.advance(1500);
        h.tc.completeWrites();
      }
      expect(h.tc.isShutDown).to.equal(false);
      h.finish();
    });
  });

  describe('header block timeout', () => {
    it('sends GOAWAY(ENHANCE_YOUR_CALM) when a header block stays open for headerBlockTimeoutMs', () => {
      const h = serverHarness({ connection: { headerBlockTimeoutMs: 300 } });
      const block = h.peer.headerBlock(GET);
      h.send(h.peer.headers(1, block.subarray(0, 3), { omitEndHeaders: true }));
      h.tc.advance(299);
      expect(h.tc.isShutDown).to.equal(false);
      h.tc.advance(1);
      expectGoaway(h.flush(), ErrorCode.ENHANCE_YOUR_CALM);
      h.finish();
    });

    it('does not fire once the block completed', () => {
      const h = serverHarness({ connection: { headerBlockTimeoutMs: 300 } });
      const block = h.peer.headerBlock(GET);
      h.send(h.peer.headers(1, block.subarray(0, 3), { omitEndHeaders: true }));
      h.tc.advance(200);
      h.send(h.peer.continuation(1, block.subarray(3), true));
      h.tc.advance(1000);
      expect(h.received).to.have.length(1);
      expect(h.tc.isShutDown).to.equal(false);
      h.finish();
    });
  });
});
