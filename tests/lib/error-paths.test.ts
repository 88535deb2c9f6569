import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  ChannelDirection,
  ChannelErrors,
  EventLoopGroup,
  IoErrors,
  MessagePool,
  PassThroughHandler,
  ServerBootstrap,
  SluiceError,
  TestingChannel,
  type ChannelSlot,
} from '../../handlers/index.js';
import { fromNodeSocketError } from '../../lib/socket-errors.js';

/** Bad input to the runtime that the other suites do not reach, each with its stable code. */
describe('runtime error paths', () => {
  it('refuses a read into a slot whose read side has shut down: CHANNEL_SLOT_SHUT_DOWN', () => {
    // The middle handler finishes its read side but keeps forwarding, as a buggy handler might.
    let middle: ChannelSlot | null = null;
    const holder = Object.assign(new PassThroughHandler(), {
      installed: (slot: ChannelSlot) => (middle = slot),
      shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean) {
        if (direction === ChannelDirection.WRITE) return; // never finishes writing: the channel stays up
        slot.onHandlerShutdownComplete(direction, error, free);
      },
    });
    const test = new TestingChannel([holder]);
    test.shutdown();
    const message = test.messagePool.acquire(1);
    message.append(Buffer.from('x'));
    expect(() => test.socketSlot.sendMessage(message, ChannelDirection.READ))
      .to.throw(SluiceError)
      .with.property('code', ChannelErrors.SLOT_SHUT_DOWN.code);
    message.release();
    expect(middle).to.not.equal(null);
  });

  it('reports a slot without handler: CHANNEL_NO_HANDLER', () => {
    const test = new TestingChannel([new PassThroughHandler()]);
    const slot = test.slot;
    slot.remove();
    expect(() => slot.handler)
      .to.throw(SluiceError)
      .with.property('code', ChannelErrors.NO_HANDLER.code);
    test.shutdown();
  });

  it('refuses bad pool sizes and an empty loop group: IO_INVALID_OPTIONS', () => {
    expect(() => new MessagePool({ smallMessageSize: 0 }))
      .to.throw(SluiceError)
      .with.property('code', IoErrors.INVALID_OPTIONS.code);
    expect(() => new MessagePool({ smallMessageSize: 4096, dataMessageSize: 1024 }))
      .to.throw(SluiceError)
      .with.property('code', IoErrors.INVALID_OPTIONS.code);
    expect(() => new EventLoopGroup([]))
      .to.throw(SluiceError)
      .with.property('code', IoErrors.INVALID_OPTIONS.code);
  });

  it('has no address once the listener closed: IO_LISTENER_CLOSED', async () => {
    const listener = await new ServerBootstrap().listen({ host: '127.0.0.1', port: 0 });
    expect(listener.port).to.be.greaterThan(0);
    await listener.close();
    expect(() => listener.address)
      .to.throw(SluiceError)
      .with.property('code', IoErrors.LISTENER_CLOSED.code);
  });

  it('maps EHOSTUNREACH and ENETUNREACH to IO_HOST_UNREACHABLE', () => {
    for (const code of ['EHOSTUNREACH', 'ENETUNREACH']) {
      expect(fromNodeSocketError(Object.assign(new Error(code), { code })).code).to.equal(
        IoErrors.HOST_UNREACHABLE.code,
      );
    }
  });

  it('refuses a bootstrap without a transport when only the runtime is loaded: IO_NO_TRANSPORT', () => {
    // A fresh process: in this one, importing 'sluice' already registered the socket transport.
    const runtime = fileURLToPath(new URL('../../lib/index.js', import.meta.url));
    const script = `import(${JSON.stringify(runtime)}).then((m) => { try { new m.ClientBootstrap(); console.log('no error'); } catch (e) { console.log(e.code); } });`;
    expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()).to.equal(
      IoErrors.NO_TRANSPORT.code,
    );
  });
});
