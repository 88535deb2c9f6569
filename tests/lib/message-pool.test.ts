import { expect } from 'chai';
import { ChannelErrors, IoMessage, MessagePool } from '../../lib/index.js';

describe('MessagePool', () => {
  it('hands out small messages for small requests and data messages for large ones', () => {
    const pool = new MessagePool({ smallMessageSize: 128, dataMessageSize: 4096 });
    const small = pool.acquire(10);
    const medium = pool.acquire(1000);
    const huge = pool.acquire(1_000_000);
    expect(small.capacity).to.equal(128);
    expect(medium.capacity).to.equal(1000);
    expect(huge.capacity).to.equal(4096);
    for (const message of [small, medium, huge]) message.release();
    expect(pool.outstanding).to.equal(0);
  });

  it('gives a size hint a block of the smallest class that holds it (doubling from small to data)', () => {
    const pool = new MessagePool({ smallMessageSize: 1024, dataMessageSize: 256 * 1024 });
    const cases: [number, number][] = [
      [1, 1024],
      [1024, 1024],
      [1025, 2048],
      [16 * 1024, 16 * 1024],
      [16 * 1024 + 1, 32 * 1024],
      [200 * 1024, 256 * 1024],
      [256 * 1024, 256 * 1024],
      [10 * 1024 * 1024, 256 * 1024],
    ];
    for (const [hint, blockSize] of cases) {
      const message = pool.acquire(hint);
      expect(message._block.length, `block for a hint of ${hint}`).to.equal(blockSize);
      expect(message.capacity, `capacity for a hint of ${hint}`).to.equal(Math.min(Math.max(hint, 1024), 256 * 1024));
      message.release();
    }
    expect(pool.outstanding).to.equal(0);
  });

  it('400 pending 16 KiB frames hold 400 × 16 KiB, not 400 data blocks', () => {
    const pool = new MessagePool();
    const held = Array.from({ length: 400 }, () => pool.acquire(16 * 1024));
    expect(held.reduce((sum, message) => sum + message._block.length, 0)).to.equal(400 * 16 * 1024);
    for (const message of held) message.release();
    // Reused by class: a 16 KiB request takes a recycled 16 KiB block, a data request does not.
    const again = pool.acquire(16 * 1024);
    const data = pool.acquireMax();
    expect(pool.statistics().allocated).to.equal(401);
    again.release();
    data.release();
  });

  it('sizes that are not powers of two: doublings of the small size, then the data size', () => {
    const pool = new MessagePool({ smallMessageSize: 1000, dataMessageSize: 5000 });
    expect([1000, 1001, 2001, 4001, 4999].map((hint) => pool.acquire(hint)._block.length)).to.deep.equal([
      1000, 2000, 4000, 5000, 5000,
    ]);
  });

  it('reuses released messages instead of allocating', () => {
    const pool = new MessagePool();
    for (let i = 0; i < 100; i++) pool.acquire(16 * 1024).release();
    const stats = pool.statistics();
    expect(stats.acquired).to.equal(100);
    expect(stats.allocated).to.equal(1);
    expect(stats.reused).to.equal(99);
    expect(stats.outstanding).to.equal(0);
  });

  it('frees messages released beyond the target count', () => {
    const pool = new MessagePool({ dataTargetCount: 2 });
    const held = [pool.acquire(5000), pool.acquire(5000), pool.acquire(5000)];
    for (const message of held) message.release();
    expect(pool.statistics().freed).to.equal(1);
  });

  it('starts a recycled message empty', () => {
    const pool = new MessagePool();
    const message = pool.acquire(2000);
    message.append(Buffer.from('hello'));
    message.copyMark = 3;
    message.tag = 9;
    message.release();
    const again = pool.acquire(2000);
    expect(again).to.equal(message);
    expect([again.length, again.copyMark, again.tag]).to.deep.equal([0, 0, 0]);
    again.release();
  });

  it('append copies only what fits', () => {
    const pool = new MessagePool({ smallMessageSize: 8 });
    const message = pool.acquire(8);
    expect(message.append(Buffer.from('0123456789'))).to.equal(8);
    expect(message.bytes.toString()).to.equal('01234567');
    expect(message.remaining).to.equal(0);
    message.release();
  });

  it('throws CHANNEL_MESSAGE_RELEASED when a released message is touched or released again', () => {
    const pool = new MessagePool();
    const message = pool.acquire(10);
    message.release();
    expect(() => message.data)
      .to.throw()
      .with.property('code', ChannelErrors.MESSAGE_RELEASED.code);
    expect(() => message.release())
      .to.throw()
      .with.property('code', ChannelErrors.MESSAGE_RELEASED.code);
    expect(pool.outstanding).to.equal(0);
  });

  it('wraps foreign memory without a pool', () => {
    const message = IoMessage.wrap(new Uint8Array([1, 2, 3]));
    expect(message.length).to.equal(3);
    expect([...message.bytes]).to.deep.equal([1, 2, 3]);
    message.release();
    expect(message.isReleased).to.equal(true);
  });
});
