import { expect } from 'chai';
import fc from 'fast-check';
import { putResponseHead, type Http1Fields } from '../../../handlers/http1/wire/message-encoder.js';
import { RecentHead } from '../../../handlers/http1/wire/recent-head.js';

interface Head {
  readonly status: number;
  readonly reason: string;
  readonly fields: Http1Fields;
  readonly httpMinorVersion: number;
}

/** What `putResponseHead` writes for `head`, at `offset` of a message that holds other bytes. */
function encoded(head: Head, offset: number): string {
  const target = Buffer.alloc(512, 0x2e);
  const end = putResponseHead(target, offset, head.status, head.reason, head.fields, head.httpMinorVersion);
  return target.toString('latin1', 0, end + 3);
}

/** What `recent.put` writes for `head`, the same way. */
function written(recent: RecentHead, head: Head, offset: number): string {
  const target = Buffer.alloc(512, 0x2e);
  const end = recent.put(target, offset, head.status, head.reason, head.fields, head.httpMinorVersion);
  return target.toString('latin1', 0, end + 3);
}

const ok: Head = {
  status: 200,
  reason: 'OK',
  fields: ['content-length', '2', 'date', 'Sun, 06 Dec 2026 00:00:00 GMT'],
  httpMinorVersion: 1,
};

describe('http1 RecentHead', () => {
  it('writes what the encoder writes, the first time, the second and every time after', () => {
    const recent = new RecentHead();
    for (const offset of [0, 7, 0, 31, 3]) expect(written(recent, ok, offset)).to.equal(encoded(ok, offset));
  });

  it('writes a head that differs in any one part as that head, then the same head again as it is', () => {
    const variants: Head[] = [
      { ...ok, status: 201 },
      { ...ok, reason: 'Fine' },
      { ...ok, httpMinorVersion: 0 },
      { ...ok, fields: ['content-length', '3', 'date', 'Sun, 06 Dec 2026 00:00:00 GMT'] },
      { ...ok, fields: ['content-length', '2'] },
      { ...ok, fields: ['content-length', '2', 'date', 'Sun, 06 Dec 2026 00:00:01 GMT'] },
    ];
    for (const variant of variants) {
      const recent = new RecentHead();
      written(recent, ok, 0);
      written(recent, ok, 0);
      expect(written(recent, variant, 5)).to.equal(encoded(variant, 5));
      expect(written(recent, ok, 0)).to.equal(encoded(ok, 0));
      expect(written(recent, ok, 0)).to.equal(encoded(ok, 0));
    }
  });

  it('keeps its own copy: bytes written over after the head do not change the next copy', () => {
    const recent = new RecentHead();
    const target = Buffer.alloc(256);
    for (let round = 0; round < 3; round++) {
      const end = recent.put(target, 0, ok.status, ok.reason, ok.fields, ok.httpMinorVersion);
      expect(target.toString('latin1', 0, end)).to.equal(encoded(ok, 0).slice(0, end));
      target.fill(0x21);
    }
  });

  it('forgets the last head: the next is written from its strings', () => {
    const recent = new RecentHead();
    written(recent, ok, 0);
    written(recent, ok, 0);
    recent.forget();
    expect(written(recent, ok, 2)).to.equal(encoded(ok, 2));
  });

  it('writes any sequence of heads as the encoder does (property)', () => {
    const heads: Head[] = [
      ok,
      { ...ok, status: 404, reason: 'Not Found' },
      { ...ok, fields: ['content-length', '22'] },
      { status: 204, reason: '', fields: [], httpMinorVersion: 1 },
    ];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(heads.length - 1), fc.nat(40), fc.boolean()), { maxLength: 30 }),
        (steps) => {
          const recent = new RecentHead();
          for (const [which, offset, forgets] of steps) {
            if (forgets) recent.forget();
            expect(written(recent, heads[which], offset)).to.equal(encoded(heads[which], offset));
          }
        },
      ),
    );
  });
});
