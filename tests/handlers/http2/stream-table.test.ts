import { expect } from 'chai';
import fc from 'fast-check';
import { StreamTable } from '../../../handlers/http2/connection/stream-table.js';
import type { Http2Stream } from '../../../handlers/http2/connection/http2-stream.js';

/** Stand-ins: the table only reads `id` (for ordering). */
function stream(id: number): Http2Stream {
  return { id } as Http2Stream;
}

describe('StreamTable', () => {
  it('finds, replaces and removes streams by id', () => {
    const table = new StreamTable();
    expect(table.get(1), 'an empty table').to.equal(undefined);
    expect(table.delete(1)).to.equal(false);
    const one = stream(1);
    table.set(1, one);
    table.set(3, stream(3));
    expect(table.get(1)).to.equal(one);
    const replacement = stream(1);
    table.set(1, replacement);
    expect(table.size).to.equal(2);
    expect(table.get(1)).to.equal(replacement);
    expect(table.delete(1)).to.equal(true);
    expect(table.delete(1)).to.equal(false);
    expect(table.get(1)).to.equal(undefined);
    expect(table.get(3)!.id).to.equal(3);
    expect(table.size).to.equal(1);
  });

  it('keeps every entry reachable when ids collide and entries before them are removed', () => {
    const table = new StreamTable();
    // 16 slots at first: ids 1, 33, 65 share home slot 0; 3 and 35 share slot 1.
    for (const id of [1, 33, 65, 3, 35, 31]) table.set(id, stream(id));
    table.delete(1);
    expect([33, 65, 3, 35, 31].map((id) => table.get(id)?.id)).to.deep.equal([33, 65, 3, 35, 31]);
    table.delete(3);
    table.delete(65);
    expect([33, 35, 31].map((id) => table.get(id)?.id)).to.deep.equal([33, 35, 31]);
    expect(table.size).to.equal(3);
  });

  it('lists streams in id order, as a copy', () => {
    const table = new StreamTable();
    for (const id of [9, 1, 41, 5, 3]) table.set(id, stream(id));
    const listed = table.values();
    expect(listed.map((entry) => entry.id)).to.deep.equal([1, 3, 5, 9, 41]);
    table.delete(5);
    expect(listed).to.have.length(5);
  });

  it('agrees with a Map over any sequence of adds and removes, across growth', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 600 })), { maxLength: 400 }),
        (operations) => {
          const table = new StreamTable();
          const reference = new Map<number, Http2Stream>();
          for (const [isAdd, id] of operations) {
            if (isAdd) {
              const entry = stream(id);
              table.set(id, entry);
              reference.set(id, entry);
            } else {
              expect(table.delete(id)).to.equal(reference.delete(id));
            }
          }
          expect(table.size).to.equal(reference.size);
          for (let id = 1; id <= 600; id++) expect(table.get(id)).to.equal(reference.get(id));
          expect(table.values().map((entry) => entry.id)).to.deep.equal([...reference.keys()].sort((a, b) => a - b));
        },
      ),
      { numRuns: 300 },
    );
  });
});
