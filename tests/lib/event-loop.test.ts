import { expect } from 'chai';
import {
  EventLoopGroup,
  MAX_BUSY_POLL_MICROS,
  NodeEventLoop,
  SluiceError,
  Task,
  TaskStatus,
  VirtualEventLoop,
  type TaskStatus as Status,
} from '../../lib/index.js';
import { until } from '../support/waiting.js';

function recorder(): { log: string[]; task: (name: string) => Task } {
  const log: string[] = [];
  return {
    log,
    task: (name) =>
      new Task((status: Status) => log.push(`${name}:${status === TaskStatus.RUN_READY ? 'run' : 'canceled'}`), name),
  };
}

describe('EventLoop', () => {
  describe('VirtualEventLoop', () => {
    it('runs now-tasks in FIFO order on a later turn, never synchronously', () => {
      const loop = new VirtualEventLoop();
      const { log, task } = recorder();
      loop.scheduleNow(task('a'));
      loop.scheduleNow(task('b'));
      loop.scheduleNow(task('c'));
      expect(log).to.deep.equal([]);
      loop.runUntilIdle();
      expect(log).to.deep.equal(['a:run', 'b:run', 'c:run']);
    });

    it('defers tasks scheduled while a turn runs to the next turn', () => {
      const loop = new VirtualEventLoop();
      const order: string[] = [];
      const later = new Task(() => order.push('later'), 'later');
      const first = new Task(() => {
        order.push('first');
        loop.scheduleNow(later);
      }, 'first');
      const second = new Task(() => order.push('second'), 'second');
      loop.scheduleNow(first);
      loop.scheduleNow(second);
      const turns = loop.runUntilIdle();
      expect(order).to.deep.equal(['first', 'second', 'later']);
      expect(turns).to.equal(2);
    });

    it('runs timed tasks in deadline order, FIFO for equal deadlines', () => {
      const loop = new VirtualEventLoop();
      const { log, task } = recorder();
      loop.scheduleAfter(task('t30'), 30);
      loop.scheduleAfter(task('t10a'), 10);
      loop.scheduleAt(task('t20'), 20);
      loop.scheduleAfter(task('t10b'), 10);
      loop.advance(9);
      expect(log).to.deep.equal([]);
      loop.advance(11);
      expect(log).to.deep.equal(['t10a:run', 't10b:run', 't20:run']);
      loop.advance(100);
      expect(log).to.deep.equal(['t10a:run', 't10b:run', 't20:run', 't30:run']);
    });

    it('advances the clock to each deadline as its task runs', () => {
      const loop = new VirtualEventLoop({ startTimeMs: 1000 });
      const seen: number[] = [];
      loop.scheduleAfter(new Task(() => seen.push(loop.now())), 5);
      loop.scheduleAfter(new Task(() => seen.push(loop.now())), 50);
      loop.advance(100);
      expect(seen).to.deep.equal([1005, 1050]);
      expect(loop.now()).to.equal(1100);
    });

    it('cancel runs the task once, synchronously, with CANCELED, and never again', () => {
      const loop = new VirtualEventLoop();
      const { log, task } = recorder();
      const ready = task('ready');
      const timed = task('timed');
      loop.scheduleNow(ready);
      loop.scheduleAfter(timed, 10);
      loop.cancel(ready);
      loop.cancel(timed);
      expect(log).to.deep.equal(['ready:canceled', 'timed:canceled']);
      loop.advance(20);
      expect(log).to.deep.equal(['ready:canceled', 'timed:canceled']);
      loop.cancel(ready);
      expect(log).to.have.length(2);
    });

    it('lets a canceled task be scheduled again', () => {
      const loop = new VirtualEventLoop();
      const { log, task } = recorder();
      const reused = task('x');
      loop.scheduleNow(reused);
      loop.cancel(reused);
      loop.scheduleNow(reused);
      loop.runUntilIdle();
      expect(log).to.deep.equal(['x:canceled', 'x:run']);
    });

    it('refuses to schedule a task that is already scheduled', () => {
      const loop = new VirtualEventLoop();
      const task = new Task(() => undefined, 'twice');
      loop.scheduleNow(task);
      expect(() => loop.scheduleNow(task)).to.throw(/already scheduled/);
      expect(() => loop.scheduleAfter(task, 5)).to.throw(/already scheduled/);
      loop.runUntilIdle();
    });

    it('keeps running the turn when a task throws and rethrows after it', () => {
      const loop = new VirtualEventLoop();
      const { log, task } = recorder();
      loop.scheduleNow(
        new Task(() => {
          throw new Error('boom');
        }),
      );
      loop.scheduleNow(task('after'));
      expect(() => loop.runUntilIdle()).to.throw('boom');
      expect(log).to.deep.equal(['after:run']);
    });

    it('reports the earliest deadline and the pending count', () => {
      const loop = new VirtualEventLoop();
      loop.scheduleAfter(new Task(() => undefined), 40);
      loop.scheduleAfter(new Task(() => undefined), 15);
      loop.scheduleNow(new Task(() => undefined));
      expect(loop.nextDeadline).to.equal(15);
      expect(loop.pendingTaskCount).to.equal(3);
      loop.advance(50);
      expect(loop.pendingTaskCount).to.equal(0);
    });

    it('handles many timers with random deadlines in order (heap)', () => {
      const loop = new VirtualEventLoop();
      const fired: number[] = [];
      let seed = 7;
      const tasks: Task[] = [];
      for (let i = 0; i < 500; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const due = seed % 1000;
        const task = new Task((status) => status === TaskStatus.RUN_READY && fired.push(due));
        tasks.push(task);
        loop.scheduleAt(task, due);
      }
      for (let i = 0; i < 500; i += 3) loop.cancel(tasks[i]);
      loop.advance(2000);
      expect(fired.length).to.equal(500 - Math.ceil(500 / 3));
      expect(fired).to.deep.equal([...fired].sort((a, b) => a - b));
    });
  });

  describe('NodeEventLoop', () => {
    it('runs now-tasks on a later turn in FIFO order', async () => {
      const loop = new NodeEventLoop();
      const order: string[] = [];
      await new Promise<void>((resolve) => {
        loop.scheduleNow(new Task(() => order.push('a')));
        loop.scheduleNow(new Task(() => order.push('b')));
        loop.scheduleNow(new Task(() => resolve()));
        expect(order).to.deep.equal([]);
      });
      expect(order).to.deep.equal(['a', 'b']);
    });

    it('runs timed tasks in deadline order with one timer', async () => {
      const loop = new NodeEventLoop();
      const order: number[] = [];
      await new Promise<void>((resolve) => {
        loop.scheduleAfter(new Task(() => order.push(30)), 30);
        loop.scheduleAfter(new Task(() => order.push(5)), 5);
        loop.scheduleAfter(new Task(() => order.push(15)), 15);
        loop.scheduleAfter(new Task(() => resolve()), 40);
      });
      expect(order).to.deep.equal([5, 15, 30]);
    });

    it('runs tasks scheduled inside an I/O callback when the outermost callback ends, not later', () => {
      const loop = new NodeEventLoop();
      const order: string[] = [];
      loop.beginIoCallback();
      loop.beginIoCallback();
      loop.scheduleNow(new Task(() => order.push('a')));
      loop.endIoCallback();
      expect(order, 'held while an outer callback runs').to.deep.equal([]);
      loop.scheduleNow(new Task(() => order.push('b')));
      loop.endIoCallback();
      expect(order).to.deep.equal(['a', 'b']);
    });

    it('keeps tasks an I/O callback schedules from a running turn for the next turn', async () => {
      const loop = new NodeEventLoop();
      const order: string[] = [];
      await new Promise<void>((resolve) => {
        loop.scheduleNow(
          new Task(() => {
            loop.beginIoCallback();
            loop.scheduleNow(new Task(() => order.push('inner')));
            loop.endIoCallback();
            order.push('outer done');
            loop.scheduleNow(new Task(() => resolve()));
          }),
        );
      });
      expect(order).to.deep.equal(['outer done', 'inner']);
    });

    it('leaves tasks queued before an I/O callback to the turn already asked for, in order', async () => {
      const loop = new NodeEventLoop();
      const order: string[] = [];
      loop.scheduleNow(new Task(() => order.push('before')));
      loop.beginIoCallback();
      loop.scheduleNow(new Task(() => order.push('during')));
      loop.endIoCallback();
      expect(order).to.deep.equal([]);
      await new Promise<void>((resolve) => loop.scheduleNow(new Task(() => resolve())));
      expect(order).to.deep.equal(['before', 'during']);
    });

    it('does not busy-poll by default: an I/O callback leaves nothing that keeps Node awake', () => {
      const loop = new NodeEventLoop();
      loop.beginIoCallback();
      loop.endIoCallback();
      expect(loop.isBusyPolling).to.equal(false);
    });

    it('busy-polls after the outermost I/O callback for its window, then lets Node sleep again', async () => {
      const loop = new NodeEventLoop({ busyPollMicros: 2000 });
      loop.beginIoCallback();
      loop.beginIoCallback();
      loop.endIoCallback();
      expect(loop.isBusyPolling, 'not while an outer callback runs').to.equal(false);
      loop.endIoCallback();
      expect(loop.isBusyPolling).to.equal(true);
      // Tasks still run while the loop spins, in order.
      const order: string[] = [];
      await new Promise<void>((resolve) => {
        loop.scheduleNow(new Task(() => order.push('a')));
        loop.scheduleNow(new Task(() => resolve()));
      });
      expect(order).to.deep.equal(['a']);
      // The window ends on its own (bounded by the test's timeout, not measured).
      await until(() => !loop.isBusyPolling, 'the busy-poll window to end');
      expect(loop.isBusyPolling).to.equal(false);
    });

    it('rejects a busy-poll window that is negative, not a number or longer than a second, with IO_INVALID_OPTIONS', () => {
      for (const busyPollMicros of [-1, Number.NaN, Number.POSITIVE_INFINITY, MAX_BUSY_POLL_MICROS + 1]) {
        expect(() => new NodeEventLoop({ busyPollMicros }), String(busyPollMicros))
          .to.throw(SluiceError)
          .with.property('code', 'IO_INVALID_OPTIONS');
      }
      expect(new EventLoopGroup({ busyPollMicros: MAX_BUSY_POLL_MICROS }).loops).to.have.length(1);
    });

    it('cancel runs a timed task with CANCELED and it does not fire later', async () => {
      const loop = new NodeEventLoop();
      const statuses: Status[] = [];
      const task = new Task((status) => statuses.push(status));
      loop.scheduleAfter(task, 5);
      loop.cancel(task);
      await new Promise<void>((resolve) => loop.scheduleAfter(new Task(() => resolve()), 20));
      expect(statuses).to.deep.equal([TaskStatus.CANCELED]);
    });
  });

  describe('Task', () => {
    it('hands its target to a function shared by many tasks', () => {
      const loop = new VirtualEventLoop();
      const seen: string[] = [];
      const run = (_status: Status, task: Task): void => void seen.push((task.target as { name: string }).name);
      loop.scheduleNow(new Task(run, 'shared', { name: 'first' }));
      loop.scheduleNow(new Task(run, 'shared', { name: 'second' }));
      loop.runUntilIdle();
      expect(seen).to.deep.equal(['first', 'second']);
      expect(new Task(run).target).to.equal(null);
    });
  });

  describe('EventLoopGroup', () => {
    it('hands out loops round-robin', () => {
      const loops = [new VirtualEventLoop(), new VirtualEventLoop()];
      const group = new EventLoopGroup(loops);
      expect([group.next(), group.next(), group.next()]).to.deep.equal([loops[0], loops[1], loops[0]]);
    });

    it('creates Node-backed loops by count', () => {
      const group = new EventLoopGroup({ loopCount: 3 });
      expect(group.loops).to.have.length(3);
      expect(group.loops[0]).to.be.instanceOf(NodeEventLoop);
    });
  });
});
