import { expect } from 'chai';
import {
  Channel,
  ChannelDirection,
  ChannelErrors,
  IoErrors,
  LogLevel,
  PassThroughHandler,
  SluiceError,
  Task,
  TaskStatus,
  TestingChannel,
  UNLIMITED_WINDOW,
  VirtualEventLoop,
  log,
  setLogger,
  type ChannelHandler,
  type ChannelSlot,
  type IoMessage,
} from '../../lib/index.js';

/**
 * A pass-through with a fixed read window that propagates increments as they come (no matching
 * of the right neighbour's window): what the window tests below need to control each window.
 */
class FixedWindowPassThrough extends PassThroughHandler {
  constructor(private readonly fixedWindow = Number.MAX_SAFE_INTEGER) {
    super();
  }
  override installed(slot: ChannelSlot): void {
    this.slot = slot;
  }
  override initialWindowSize(): number {
    return this.fixedWindow;
  }
  override incrementReadWindow(slot: ChannelSlot, size: number): void {
    slot.incrementReadWindow(size);
  }
}

/** A pass-through that records shutdown calls into a shared log and reports a fixed overhead. */
class RecordingHandler extends FixedWindowPassThrough {
  constructor(
    private readonly name: string,
    private readonly events: string[],
    private readonly overhead = 0,
    window = Number.MAX_SAFE_INTEGER,
  ) {
    super(window);
  }
  override shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    this.events.push(`${this.name}:${direction === ChannelDirection.READ ? 'read' : 'write'}`);
    super.shutdown(slot, direction, error, free);
  }
  override messageOverhead(): number {
    return this.overhead;
  }
  override destroy(): void {
    this.events.push(`${this.name}:destroy`);
  }
}

/** Holds its write-side shutdown until told to finish (like a handler flushing a GOAWAY). */
class DeferredWriteShutdown extends PassThroughHandler {
  pending: (() => void) | null = null;
  override shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.WRITE && !free) {
      this.pending = () => slot.onHandlerShutdownComplete(direction, error, free);
      return;
    }
    slot.onHandlerShutdownComplete(direction, error, free);
  }
}

function writeOf(test: TestingChannel, text: string, completions: (SluiceError | null)[]): IoMessage {
  const message = test.applicationSlot.acquireMessageForWrite(text.length);
  message.append(Buffer.from(text));
  message.onCompletion = (_channel, _message, error) => completions.push(error);
  return message;
}

describe('Channel', () => {
  describe('setup', () => {
    it('completes setup on a later turn, with callback and promise', async () => {
      const loop = new VirtualEventLoop();
      const seen: string[] = [];
      const channel = new Channel(loop, { onSetupCompleted: () => seen.push('callback') });
      void channel.whenSetup.then(() => seen.push('promise'));
      expect(seen).to.deep.equal([]);
      loop.runUntilIdle();
      expect(seen).to.deep.equal(['callback']);
      await channel.whenSetup;
      expect(seen).to.deep.equal(['callback', 'promise']);
    });
  });

  describe('slots', () => {
    it('inserts, removes and replaces slots while the channel runs, keeping links consistent', () => {
      const events: string[] = [];
      const test = new TestingChannel([new RecordingHandler('a', events), new RecordingHandler('c', events)]);
      const [a, c] = test.handlerSlots as [ChannelSlot, ChannelSlot];
      const b = a.insertRight(new RecordingHandler('b', events));
      expect(b.adjacentLeft).to.equal(a);
      expect(b.adjacentRight).to.equal(c);
      const z = a.insertLeft(new RecordingHandler('z', events));
      expect(z.adjacentLeft).to.equal(test.socketSlot);
      expect(test.channel.slots()).to.have.length(6);
      test.pushRead('through five slots');
      expect(test.takeRead().toString()).to.equal('through five slots');

      b.remove();
      expect(a.adjacentRight).to.equal(c);
      expect(events).to.include('b:destroy');
      const replaced = c.replace(new RecordingHandler('d', events));
      expect(replaced.adjacentLeft).to.equal(a);
      expect(replaced.adjacentRight).to.equal(test.applicationSlot);
      expect(events).to.include('c:destroy');
      test.pushWrite('back through');
      expect(test.takeWritten().toString()).to.equal('back through');
      test.completeWrites();
      test.shutdown();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('sums the overheads of the handlers to the left of each slot', () => {
      const events: string[] = [];
      const test = new TestingChannel(
        [
          new RecordingHandler('a', events, 29),
          new RecordingHandler('b', events, 5),
          new RecordingHandler('c', events, 0),
        ],
        { socketMessageOverhead: 3 },
      );
      const [a, b, c] = test.handlerSlots as [ChannelSlot, ChannelSlot, ChannelSlot];
      expect(test.socketSlot.upstreamMessageOverhead).to.equal(0);
      expect([a.upstreamMessageOverhead, b.upstreamMessageOverhead, c.upstreamMessageOverhead]).to.deep.equal([
        3, 32, 37,
      ]);
      expect(test.applicationSlot.upstreamMessageOverhead).to.equal(37);
      const max = c.acquireMaxMessageForWrite();
      expect(max.capacity).to.equal(test.messagePool.dataMessageSize - 37);
      max.release();
      const hinted = c.acquireMessageForWrite(1_000_000);
      expect(hinted.capacity).to.equal(test.messagePool.dataMessageSize - 37);
      hinted.release();
      b.remove();
      expect(c.upstreamMessageOverhead).to.equal(32);
      test.shutdown();
    });
  });

  describe('read back-pressure', () => {
    it('delivers no more than the window and resumes when the application opens it', () => {
      const test = new TestingChannel([new FixedWindowPassThrough(4)], { applicationReadWindow: 4 });
      test.pushRead('0123456789');
      expect(test.takeRead().toString()).to.equal('0123');
      expect(test.bufferedReadBytes).to.equal(6);
      test.openReadWindow(3);
      expect(test.takeRead().toString()).to.equal('456');
      test.openReadWindow(100);
      expect(test.takeRead().toString()).to.equal('789');
      test.shutdown();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('throws CHANNEL_READ_WINDOW_EXCEEDED for a read larger than the window and leaves the channel usable', () => {
      const test = new TestingChannel([new FixedWindowPassThrough(8)]);
      const slot = test.socketSlot;
      const message = test.messagePool.acquire(20);
      message.append(Buffer.alloc(20, 1));
      expect(() => slot.sendMessage(message, ChannelDirection.READ))
        .to.throw(SluiceError)
        .with.property('code', ChannelErrors.READ_WINDOW_EXCEEDED.code);
      // The sender still owns the message and the window is untouched.
      expect(message.isReleased).to.equal(false);
      expect(test.slot.windowSize).to.equal(8);
      message.release();
      test.pushRead('12345678');
      expect(test.takeRead().toString()).to.equal('12345678');
      test.shutdown();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('refuses a message whose length is past its capacity, negative or fractional with CHANNEL_INVALID_MESSAGE_LENGTH, before anything moves', () => {
      const test = new TestingChannel([new PassThroughHandler()]);
      for (const direction of [ChannelDirection.READ, ChannelDirection.WRITE]) {
        const from = direction === ChannelDirection.READ ? test.socketSlot : test.applicationSlot;
        for (const length of [1_000_000, -1, 2.5, Number.NaN]) {
          const message = test.messagePool.acquire(4);
          message.append(Buffer.from('abcd'));
          message.length = length;
          expect(() => from.sendMessage(message, direction), `length ${length}`)
            .to.throw(SluiceError)
            .with.property('code', ChannelErrors.INVALID_MESSAGE_LENGTH.code);
          expect(message.isReleased).to.equal(false);
          message.release();
        }
      }
      // Nothing was delivered or written, and the channel still works.
      expect(test.takeRead().length).to.equal(0);
      expect(test.takeWritten().length).to.equal(0);
      test.pushRead('ok');
      expect(test.takeRead().toString()).to.equal('ok');
      test.shutdown();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it("canSendRight: a message larger than the right slot's whole window is a likely stall — one WARN per channel naming slot, window and size, counted every time", () => {
      const lines: string[] = [];
      const previous = log;
      setLogger({ level: LogLevel.WARN, log: (_level, subject, message) => lines.push(`${subject}: ${message}`) });
      try {
        // The application end's whole window is 8 bytes; the codec in front of it holds 16.
        const test = new TestingChannel([new PassThroughHandler()], { applicationReadWindow: 8 });
        const slot = test.slot;
        expect(slot.canSendRight(8)).to.equal(true);
        expect(test.channel.windowStalls).to.equal(0);
        expect(slot.canSendRight(16)).to.equal(false);
        expect(slot.canSendRight(16)).to.equal(false);
        expect(test.channel.windowStalls).to.equal(2);
        expect(lines).to.have.length(1);
        expect(lines[0]).to.match(
          /^channel: channel \d+: slot 1 \(PassThroughHandler\) holds a 16-byte message for slot 2 \(\w+\), whose whole read window is 8 \(now 8\)/,
        );
        test.shutdown();
      } finally {
        setLogger(previous);
      }
    });

    it('canSendRight: a window that is only spent for now is ordinary back-pressure, not a stall', () => {
      const test = new TestingChannel([new PassThroughHandler()], { applicationReadWindow: 64 });
      test.pushRead(Buffer.alloc(60, 1)); // the application does not read: 4 bytes of window left
      expect(test.slot.canSendRight(16)).to.equal(false);
      expect(test.channel.windowStalls).to.equal(0);
      test.takeRead();
      test.shutdown();
    });

    it('propagates window increments left through pass-through handlers in one task', () => {
      const test = new TestingChannel([new FixedWindowPassThrough(0), new FixedWindowPassThrough(0)], {
        applicationReadWindow: 0,
      });
      test.pushRead('abc');
      expect(test.takeRead().length).to.equal(0);
      test.applicationSlot.incrementReadWindow(3);
      // The opening reaches the socket end through both handlers in one window-update task.
      expect(test.loop.runUntilIdle()).to.equal(1);
      expect(test.takeRead().toString()).to.equal('abc');
      expect(test.handlerSlots.map((slot) => slot.windowSize)).to.deep.equal([0, 0]);
      test.shutdown();
    });

    it('an unlimited window (2^31 − 1 or more) reads as UNLIMITED_WINDOW and reads do not reduce it', () => {
      const test = new TestingChannel([new FixedWindowPassThrough(Number.MAX_SAFE_INTEGER)]);
      expect(test.slot.windowSize).to.equal(UNLIMITED_WINDOW);
      test.pushRead('some bytes');
      expect(test.takeRead().toString()).to.equal('some bytes');
      expect(test.slot.windowSize).to.equal(UNLIMITED_WINDOW);
      expect(test.socketSlot.downstreamReadWindow()).to.equal(UNLIMITED_WINDOW);
      test.shutdown();
    });

    it('a window just below 2^31 − 1 is a window like any other; opened to it or past it, it is unlimited', () => {
      const largest = 2 ** 31 - 2;
      const test = new TestingChannel([new FixedWindowPassThrough(largest)]);
      test.pushRead('12345');
      expect(test.takeRead().toString()).to.equal('12345');
      expect(test.slot.windowSize).to.equal(largest - 5);
      test.slot.incrementReadWindow(4);
      expect(test.slot.windowSize).to.equal(largest - 1);
      test.slot.incrementReadWindow(2);
      expect(test.slot.windowSize).to.equal(UNLIMITED_WINDOW);
      test.pushRead('more');
      expect(test.slot.windowSize).to.equal(UNLIMITED_WINDOW);
      test.shutdown();
    });

    it('reads as unlimited when back-pressure is off', () => {
      const test = new TestingChannel([new FixedWindowPassThrough(0)], {
        enableReadBackPressure: false,
        applicationReadWindow: 0,
      });
      test.pushRead('all of it');
      expect(test.takeRead().toString()).to.equal('all of it');
      expect(test.slot.downstreamReadWindow()).to.equal(Number.MAX_SAFE_INTEGER);
      test.shutdown();
    });
  });

  describe('shutdown', () => {
    it('shuts the read direction down left to right, then the write direction right to left', () => {
      const events: string[] = [];
      const test = new TestingChannel([
        new RecordingHandler('a', events),
        new RecordingHandler('b', events),
        new RecordingHandler('c', events),
      ]);
      const error = new SluiceError(IoErrors.CONNECTION_RESET);
      test.shutdown(error);
      expect(events.filter((event) => !event.endsWith('destroy'))).to.deep.equal([
        'a:read',
        'b:read',
        'c:read',
        'c:write',
        'b:write',
        'a:write',
      ]);
      expect(test.shutdownSteps.map((step) => `${step.end}:${step.direction}`)).to.deep.equal([
        'socket:0',
        'application:0',
        'application:1',
        'socket:1',
      ]);
      expect(test.shutdownSteps.every((step) => step.error === error)).to.equal(true);
      expect(test.shutdownError).to.equal(error);
      expect(events.slice(-3)).to.deep.equal(['a:destroy', 'b:destroy', 'c:destroy']);
    });

    it('ignores a second shutdown and keeps the first error', async () => {
      const events: string[] = [];
      const test = new TestingChannel([new RecordingHandler('a', events)]);
      const first = new SluiceError(IoErrors.SOCKET_CLOSED);
      test.channel.shutdown(first);
      test.channel.shutdown(new SluiceError(IoErrors.CONNECTION_RESET));
      test.runUntilIdle();
      test.shutdown(new SluiceError(IoErrors.TIMED_OUT));
      expect(events.filter((event) => event === 'a:read')).to.have.length(1);
      expect(await test.channel.whenShutdown).to.equal(first);
    });

    it('still opens windows during the read phase, so a handler can deliver what it holds before it completes', () => {
      /** Holds reads until the window allows; finishes its read shutdown only when nothing is held. */
      class HoldingHandler extends FixedWindowPassThrough {
        held: IoMessage[] = [];
        pendingReadShutdown: (() => void) | null = null;
        override processReadMessage(slot: ChannelSlot, message: IoMessage): void {
          this.held.push(message);
          this.flush(slot);
        }
        override incrementReadWindow(slot: ChannelSlot): void {
          this.flush(slot);
        }
        private flush(slot: ChannelSlot): void {
          while (this.held.length > 0 && this.held[0].length <= slot.downstreamReadWindow())
            slot.sendMessage(this.held.shift()!, ChannelDirection.READ);
          if (this.held.length === 0) this.pendingReadShutdown?.();
        }
        override shutdown(
          slot: ChannelSlot,
          direction: ChannelDirection,
          error: SluiceError | null,
          free: boolean,
        ): void {
          if (direction === ChannelDirection.READ && this.held.length > 0 && !free) {
            this.pendingReadShutdown = () => {
              this.pendingReadShutdown = null;
              slot.onHandlerShutdownComplete(direction, error, free);
            };
            return;
          }
          slot.onHandlerShutdownComplete(direction, error, free);
        }
      }
      const holder = new HoldingHandler();
      const test = new TestingChannel([holder], { applicationReadWindow: 0 });
      test.pushRead('held bytes');
      test.shutdown(new SluiceError(IoErrors.SOCKET_CLOSED));
      expect(test.isShutDown).to.equal(false);
      test.openReadWindow(100);
      expect(test.takeRead().toString()).to.equal('held bytes');
      expect(test.isShutDown).to.equal(true);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('waits for a handler that finishes its write side later', () => {
      const deferred = new DeferredWriteShutdown();
      const test = new TestingChannel([deferred]);
      test.shutdown();
      expect(test.isShutDown).to.equal(false);
      expect(deferred.pending).to.be.a('function');
      deferred.pending!();
      test.runUntilIdle();
      expect(test.isShutDown).to.equal(true);
    });

    it('throws CHANNEL_SHUTDOWN_ALREADY_COMPLETE when a handler completes a direction twice', () => {
      let savedSlot: ChannelSlot | null = null;
      const handler: ChannelHandler = Object.assign(new PassThroughHandler(), {
        shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean) {
          savedSlot = slot;
          slot.onHandlerShutdownComplete(direction, error, free);
        },
      });
      const test = new TestingChannel([handler]);
      test.shutdown();
      expect(() => savedSlot!.onHandlerShutdownComplete(ChannelDirection.READ, null, false))
        .to.throw(SluiceError)
        .with.property('code', ChannelErrors.SHUTDOWN_ALREADY_COMPLETE.code);
      expect(test.isShutDown).to.equal(true);
    });

    it('refuses a shutdown completion that the channel did not ask for', () => {
      const test = new TestingChannel([new PassThroughHandler()]);
      expect(() => test.slot.onHandlerShutdownComplete(ChannelDirection.WRITE, null, false))
        .to.throw(SluiceError)
        .with.property('code', ChannelErrors.INVALID_SLOT_OPERATION.code);
      test.shutdown();
      expect(test.isShutDown).to.equal(true);
    });

    it('runs pending channel tasks CANCELED after shutdown, and new ones at once', () => {
      const test = new TestingChannel([new PassThroughHandler()]);
      const statuses: string[] = [];
      const record = (name: string) =>
        new Task((status) => statuses.push(`${name}:${status === TaskStatus.RUN_READY ? 'run' : 'canceled'}`));
      test.channel.scheduleTaskAfter(record('timer'), 1000);
      test.channel.scheduleTaskNow(record('soon'));
      test.channel.shutdown();
      test.runUntilIdle();
      expect(statuses).to.deep.equal(['soon:run', 'timer:canceled']);
      test.channel.scheduleTaskNow(record('late'));
      expect(statuses).to.deep.equal(['soon:run', 'timer:canceled', 'late:canceled']);
      test.advance(2000);
      expect(statuses).to.have.length(3);
    });

    it('fires every write completion exactly once: written before shutdown, failed when shutdown prevents it', () => {
      const test = new TestingChannel([new PassThroughHandler()]);
      const completions: (SluiceError | null)[] = [];
      test.pushWrite(writeOf(test, 'one', completions));
      test.pushWrite(writeOf(test, 'two', completions));
      test.completeWrites(1);
      expect(completions).to.deep.equal([null]);
      test.shutdown(null, true);
      expect(completions).to.have.length(2);
      expect(completions[1]).to.be.instanceOf(SluiceError);
      expect(completions[1]!.code).to.equal(ChannelErrors.SHUTDOWN_NOT_GRACEFUL.code);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('waits for queued writes on a graceful shutdown and completes them', () => {
      const test = new TestingChannel([new PassThroughHandler()]);
      const completions: (SluiceError | null)[] = [];
      test.pushWrite(writeOf(test, 'queued', completions));
      test.shutdown();
      expect(test.isShutDown).to.equal(false);
      test.completeWrites();
      expect(completions).to.deep.equal([null]);
      expect(test.isShutDown).to.equal(true);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('reports write failures with their error', () => {
      const test = new TestingChannel([new PassThroughHandler()]);
      const completions: (SluiceError | null)[] = [];
      test.pushWrite(writeOf(test, 'doomed', completions));
      test.failWrites(new SluiceError(IoErrors.BROKEN_PIPE));
      expect(completions.map((error) => error?.code)).to.deep.equal([IoErrors.BROKEN_PIPE.code]);
      test.shutdown();
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('throws CHANNEL_SHUT_DOWN when sending after shutdown, and CHANNEL_MESSAGE_RELEASED for a released message', () => {
      const test = new TestingChannel([new PassThroughHandler()]);
      const released = test.messagePool.acquire(4);
      released.release();
      expect(() => test.applicationSlot.sendMessage(released, ChannelDirection.WRITE))
        .to.throw(SluiceError)
        .with.property('code', ChannelErrors.MESSAGE_RELEASED.code);
      test.shutdown();
      const message = test.messagePool.acquire(4);
      expect(() => test.slot.sendMessage(message, ChannelDirection.WRITE))
        .to.throw(SluiceError)
        .with.property('code', ChannelErrors.SHUT_DOWN.code);
      message.release();
      expect(() => test.channel.appendHandler(new PassThroughHandler())).to.throw(SluiceError);
      expect(test.messagePool.outstanding).to.equal(0);
    });

    it('throws CHANNEL_NO_ADJACENT_SLOT when there is no neighbour', () => {
      const loop = new VirtualEventLoop();
      const channel = new Channel(loop);
      const slot = channel.appendHandler(new PassThroughHandler());
      const message = loop.messagePool.acquire(1);
      expect(() => slot.sendMessage(message, ChannelDirection.READ))
        .to.throw(SluiceError)
        .with.property('code', ChannelErrors.NO_ADJACENT_SLOT.code);
      expect(() => slot.sendMessage(message, ChannelDirection.WRITE))
        .to.throw(SluiceError)
        .with.property('code', ChannelErrors.NO_ADJACENT_SLOT.code);
      message.release();
      channel.shutdown();
      loop.runUntilIdle();
      expect(channel.isShutDown).to.equal(true);
    });

    it('finishes the shutdown even when a handler throws from shutdown, recording the failure', () => {
      const thrower: ChannelHandler = Object.assign(new PassThroughHandler(), {
        shutdown() {
          throw new Error('handler bug');
        },
      });
      const test = new TestingChannel([thrower]);
      test.shutdown();
      expect(test.isShutDown).to.equal(true);
      expect(test.shutdownError?.code).to.equal(ChannelErrors.HANDLER_FAILED.code);
    });
  });

  describe('statistics', () => {
    it('gathers handler statistics on an interval and resets them', () => {
      const loop = new VirtualEventLoop();
      let count = 0;
      const samples: number[] = [];
      const handler: ChannelHandler = Object.assign(new PassThroughHandler(), {
        gatherStatistics: () => ({ category: 'counter', count }),
        resetStatistics: () => (count = 0),
      });
      const channel = new Channel(loop, {
        statistics: { intervalMs: 100, onSample: (sample) => samples.push(sample.handlers[0]['count'] as number) },
      });
      channel.appendHandler(handler);
      loop.runUntilIdle();
      count = 5;
      loop.advance(100);
      count = 2;
      loop.advance(100);
      expect(samples).to.deep.equal([5, 2]);
      channel.shutdown();
      loop.advance(1000);
      expect(samples).to.have.length(2);
    });
  });
});
