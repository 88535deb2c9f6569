import { expect } from 'chai';
import { SmallFifo } from '../../lib/small-fifo.js';

/** The protected operations, opened for the test. */
class OpenFifo extends SmallFifo<number> {
  push(value: number): void {
    this.pushItem(value);
  }
  shift(): number | undefined {
    return this.shiftItem();
  }
  peek(): number | undefined {
    return this.peekItem();
  }
  replaceFirst(value: number): void {
    this.replaceFirstItem(value);
  }
  clear(): void {
    this.clearItems();
  }
  /** Whether an overflow array exists (what an idle queue must not hold). */
  get hasOverflow(): boolean {
    return (this as unknown as { overflow: unknown }).overflow !== null;
  }
}

describe('SmallFifo', () => {
  it('keeps one item without an array and gives items back oldest first', () => {
    const fifo = new OpenFifo();
    expect(fifo.shift()).to.equal(undefined);
    fifo.push(1);
    expect(fifo.hasOverflow).to.equal(false);
    expect([fifo.size, fifo.peek()]).to.deep.equal([1, 1]);
    fifo.push(2);
    fifo.push(3);
    expect(fifo.hasOverflow).to.equal(true);
    fifo.replaceFirst(10);
    expect([fifo.shift(), fifo.shift()]).to.deep.equal([10, 2]);
    fifo.push(4);
    expect([fifo.shift(), fifo.shift(), fifo.shift(), fifo.size]).to.deep.equal([3, 4, undefined, 0]);
    expect(fifo.hasOverflow).to.equal(false);
  });

  it('matches an array queue under random pushes and shifts, through compaction', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    const fifo = new OpenFifo();
    const model: number[] = [];
    let next = 0;
    for (let step = 0; step < 20_000; step++) {
      // Phases that mostly push then mostly shift, so the queue grows past the compaction point.
      const pushBias = Math.floor(step / 5000) % 2 === 0 ? 0.7 : 0.3;
      if (random() < pushBias) {
        fifo.push(next);
        model.push(next++);
      } else {
        expect(fifo.shift()).to.equal(model.shift());
      }
      expect(fifo.size).to.equal(model.length);
      expect(fifo.peek()).to.equal(model[0]);
    }
    fifo.clear();
    expect([fifo.size, fifo.peek(), fifo.hasOverflow]).to.deep.equal([0, undefined, false]);
  });
});
