/**
 * What the HPACK encoder and decoder share about hpack.js's table.
 *
 * @module
 */
import type hpack from 'hpack.js';

/**
 * The dynamic table as a flat list `[name, value, …]` in index order (index 62 first), for tests
 * and diagnostics. Allocates.
 */
export function dynamicTableEntries(table: hpack.Table): string[] {
  const entries: string[] = [];
  const dynamic = table.dynamic;
  for (let i = dynamic.length - 1; i >= 0; i--) {
    const entry = dynamic[i];
    entries.push(entry.name, entry.value);
  }
  return entries;
}
