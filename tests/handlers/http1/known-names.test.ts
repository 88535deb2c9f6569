import { expect } from 'chai';
import { fieldName } from '../../../handlers/http1/wire/known-names.js';

describe('http1 known field names', () => {
  const name = (text: string): string => {
    const bytes = Buffer.from(`xx${text}yy`, 'latin1');
    return fieldName(bytes, 2, 2 + text.length);
  };

  it('returns common names in the case sent, interned or not', () => {
    for (const text of [
      'Content-Type',
      'content-type',
      'CONTENT-TYPE',
      'Content-TypX',
      'Host',
      'host',
      'hosT',
      'X-Custom',
    ])
      expect(name(text)).to.equal(text);
  });
});
