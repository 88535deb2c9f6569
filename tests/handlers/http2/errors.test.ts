import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import {
  ErrorCode,
  Http2ApiErrors,
  Http2ConnectionError,
  Http2StreamError,
  errorCodeName,
} from '../../../handlers/http2/index.js';

describe('HTTP/2 errors', () => {
  it('documents every RFC and API code in docs/errors.md', () => {
    const page = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
    for (const value of Object.values(ErrorCode)) expect(page).to.include(`\`HTTP2_${errorCodeName(value)}\``);
    for (const definition of Object.values(Http2ApiErrors)) expect(page).to.include(`\`${definition.code}\``);
  });

  it('gives connection and stream errors their scope, RFC code and stable code', () => {
    const connection = new Http2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'window overflow');
    expect(connection.code).to.equal('HTTP2_FLOW_CONTROL_ERROR');
    expect(connection.errorCode).to.equal(3);
    expect(connection.name).to.equal('Http2ConnectionError');
    const stream = new Http2StreamError(5, ErrorCode.REFUSED_STREAM, 'refused', { retryable: true });
    expect([stream.code, stream.streamId, stream.retryable, stream.name]).to.deep.equal([
      'HTTP2_REFUSED_STREAM',
      5,
      true,
      'Http2StreamError',
    ]);
  });

  it('names unknown error codes by number', () => {
    expect(errorCodeName(0x1234)).to.equal('UNKNOWN_0x1234');
  });
});
