import { expect } from 'chai';
import { isCredential, isSameLatin1 } from '../../../handlers/http1/wire/char-classes.js';

describe('http1 char classes', () => {
  describe('isSameLatin1', () => {
    const bytes = Buffer.from('xxHost: a.example\xff', 'latin1');

    it('is true for the same characters at the offset', () => {
      expect(isSameLatin1(bytes, 8, 'a.example')).to.equal(true);
      expect(isSameLatin1(bytes, 8, 'a.example\xff')).to.equal(true);
      expect(isSameLatin1(bytes, 2, '')).to.equal(true);
    });

    it('is false when any one byte differs, first, middle or last', () => {
      expect(isSameLatin1(bytes, 8, 'b.example')).to.equal(false);
      expect(isSameLatin1(bytes, 8, 'a,example')).to.equal(false);
      expect(isSameLatin1(bytes, 8, 'a.exampld')).to.equal(false);
      expect(isSameLatin1(bytes, 8, 'A.example')).to.equal(false);
    });

    it('never takes a character above U+00FF for the byte it shares its low bits with', () => {
      expect(isSameLatin1(Buffer.from([0x41]), 0, '\u0141')).to.equal(false);
    });
  });

  describe('isCredential', () => {
    const is = (name: string): boolean => isCredential(Buffer.from(`-${name}:`), 1, 1 + name.length);

    it('names the credential fields in any case', () => {
      for (const name of ['Authorization', 'authorization', 'COOKIE', 'Cookie', 'Set-Cookie', 'proxy-authorization'])
        expect(is(name), name).to.equal(true);
    });

    it('names no other field, of the same lengths or not', () => {
      for (const name of [
        'Host',
        'Cookies',
        'Cookid',
        'Connection',
        'Authorisation',
        'User-Agent',
        'Proxy-Authenticate',
      ])
        expect(is(name), name).to.equal(false);
    });
  });
});
