import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ChannelErrors, IoErrors, SluiceError, asSluiceError } from '../../lib/index.js';
import { fromNodeSocketError } from '../../lib/socket-errors.js';

describe('errors', () => {
  it('documents every io and channel code in docs/errors.md', () => {
    const page = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    for (const definition of [...Object.values(IoErrors), ...Object.values(ChannelErrors)]) {
      expect(page, definition.code).to.include(`\`${definition.code}\``);
    }
  });

  it('maps Node socket errors to stable codes', () => {
    const cases: [string, string][] = [
      ['ECONNRESET', 'IO_CONNECTION_RESET'],
      ['EPIPE', 'IO_BROKEN_PIPE'],
      ['ECONNREFUSED', 'IO_CONNECTION_REFUSED'],
      ['ETIMEDOUT', 'IO_TIMED_OUT'],
      ['EWHATEVER', 'IO_SOCKET_ERROR'],
    ];
    for (const [nodeCode, code] of cases) {
      const nodeError = Object.assign(new Error(nodeCode), { code: nodeCode });
      const error = fromNodeSocketError(nodeError);
      expect(error.code).to.equal(code);
      expect(error.cause).to.equal(nodeError);
      expect(error.name).to.equal('SluiceError');
    }
  });

  it('wraps foreign throws once and keeps SluiceErrors', () => {
    const original = new SluiceError(IoErrors.SOCKET_CLOSED);
    expect(asSluiceError(original, ChannelErrors.HANDLER_FAILED)).to.equal(original);
    const wrapped = asSluiceError(new TypeError('bad'), ChannelErrors.HANDLER_FAILED);
    expect(wrapped.code).to.equal('CHANNEL_HANDLER_FAILED');
    expect(wrapped.message).to.contain('bad');
  });
});
