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

/**
 * Gives `table`'s dynamic array its exact length as capacity. Called after a context's first
 * header block: an array grown by pushes reserves 17 slots or more (V8 grows by half plus 16),
 * ≈ 110 octets more than the few entries most connections add then and little after — octets
 * every idle connection would hold twice (both contexts). Later adds grow it again as before.
 */
export function compactDynamicTable(table: hpack.Table): void {
  if (table.dynamic.length > 0) table.dynamic = table.dynamic.slice();
}
