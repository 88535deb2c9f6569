/**
 * Pieces of `sluice get` (`bin/cli/get.ts`) tested alone; the command itself is run end to end
 * in `tests/bin/cli.test.ts`.
 */
import { expect } from 'chai';
import { announcedLength } from '../../../bin/cli/get.js';

describe('sluice get: announcedLength (the progress line total)', () => {
  const cases: { name: string; method: string; status: number; fields: string[]; length: number | null }[] = [
    { name: 'a content-length', method: 'GET', status: 200, fields: ['content-length', '307200'], length: 307_200 },
    {
      name: 'an HTTP/1.1 field name in any case, padded',
      method: 'GET',
      status: 200,
      fields: ['Content-Type', 'text/plain', 'Content-Length', ' 12 '],
      length: 12,
    },
    { name: 'no content-length (a streamed body)', method: 'POST', status: 200, fields: ['date', 'x'], length: null },
    { name: 'a malformed content-length', method: 'GET', status: 200, fields: ['content-length', '1e3'], length: null },
    {
      name: 'a response to HEAD (RFC 9110 §8.6)',
      method: 'HEAD',
      status: 200,
      fields: ['content-length', '9'],
      length: null,
    },
    { name: 'a 304', method: 'GET', status: 304, fields: ['content-length', '9'], length: null },
    { name: 'a 204', method: 'GET', status: 204, fields: ['content-length', '0'], length: null },
  ];
  for (const { name, method, status, fields, length } of cases)
    it(`reads ${length ?? 'no length'} from ${name}`, () =>
      expect(announcedLength(method, status, fields)).to.equal(length));
});
