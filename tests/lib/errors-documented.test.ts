import { expect } from 'chai';
import * as sluice from '../../handlers/index.js';
import { documentedErrorCodes } from '../support/error-codes.js';

describe('docs/errors.md', () => {
  it('documents the code of every error table the package exports', () => {
    const documented = documentedErrorCodes();
    const tables = Object.entries(sluice).filter(
      ([name, value]) => name.endsWith('Errors') && typeof value === 'object' && value !== null,
    );
    expect(tables.length).to.be.greaterThan(5);
    for (const [name, table] of tables) {
      for (const definition of Object.values(table as Record<string, { code?: unknown }>)) {
        if (typeof definition?.code !== 'string') continue;
        expect(documented, `${name}: ${definition.code}`).to.include(definition.code);
      }
    }
  });
});
