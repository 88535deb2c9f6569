import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import * as sluice from '../../handlers/index.js';

describe('docs/errors.md', () => {
  it('documents the code of every error table the package exports', () => {
    const page = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const tables = Object.entries(sluice).filter(([name, value]) => name.endsWith('Errors') && typeof value === 'object' && value !== null);
    expect(tables.length).to.be.greaterThan(5);
    for (const [name, table] of tables) {
      for (const definition of Object.values(table as Record<string, { code?: unknown }>)) {
        if (typeof definition?.code !== 'string') continue;
        expect(page, `${name}: ${definition.code}`).to.include(`\`${definition.code}\``);
      }
    }
  });
});
