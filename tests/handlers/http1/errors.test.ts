/**
 * The HTTP/1.1 error tables: every code documented in docs/errors.md with its status, and the
 * parse error class. (tests/lib/errors-documented.test.ts only sees tables exported from the
 * package root, which does not export sluice/http1 yet.)
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { SluiceError } from '../../../lib/errors.js';
import * as http1 from '../../../handlers/http1/index.js';

const page = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');

describe('http1 errors', () => {
  it('documents every parse error code in docs/errors.md with its status', () => {
    for (const definition of Object.values(http1.Http1ParseErrors)) {
      expect(page, definition.code).to.include(`| \`${definition.code}\` | ${definition.status} |`);
    }
  });

  it('documents every encoder error code in docs/errors.md', () => {
    for (const definition of Object.values(http1.Http1EncodeErrors)) {
      expect(page, definition.code).to.include(`| \`${definition.code}\` |`);
    }
  });

  it('documents every connection error code in docs/errors.md', () => {
    for (const definition of Object.values(http1.Http1ConnectionErrors)) {
      expect(page, definition.code).to.include(`| \`${definition.code}\` |`);
    }
  });

  it('uses HTTP1_ codes, unique, and only the statuses a server answers', () => {
    const codes = [
      ...Object.values(http1.Http1ParseErrors),
      ...Object.values(http1.Http1EncodeErrors),
      ...Object.values(http1.Http1ConnectionErrors),
    ].map((definition) => definition.code);
    expect(new Set(codes).size).to.equal(codes.length);
    for (const code of codes) expect(code).to.match(/^HTTP1_[A-Z0-9_]+$/);
    const statuses = new Set(Object.values(http1.Http1ParseErrors).map((definition) => definition.status));
    expect([...statuses].sort()).to.deep.equal([400, 413, 414, 431, 501, 505]);
  });

  it('makes Http1ParseError a SluiceError carrying code and status', () => {
    const error = new http1.Http1ParseError(http1.Http1ParseErrors.BODY_TOO_LARGE, 'too big');
    expect(error).to.be.instanceOf(SluiceError);
    expect([error.name, error.code, error.status, error.message]).to.deep.equal([
      'Http1ParseError',
      'HTTP1_BODY_TOO_LARGE',
      413,
      'too big',
    ]);
  });
});
