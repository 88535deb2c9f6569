/**
 * Configuration blocks read out of the guides, so that the configuration a guide documents is
 * the one a test runs.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './processes.js';

/** A placeholder in a documented configuration: `{{NAME}}`. */
const PLACEHOLDER = /\{\{([A-Z0-9_]+)\}\}/g;

/**
 * The fenced block that follows `<!-- tested-config: NAME -->` in `guide` (a path under the
 * repository), with each `{{KEY}}` replaced by `values[KEY]`. Throws when the marker or its
 * block is missing, when the block has a placeholder `values` does not fill, or when a value
 * fills nothing (the guide changed under the test).
 */
export function documentedConfig(guide: string, name: string, values: Readonly<Record<string, string>>): string {
  const text = readFileSync(path.join(REPO_ROOT, guide), 'utf8');
  const marker = `<!-- tested-config: ${name} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${guide} has no '${marker}'`);
  const block = /^```[a-z]*\n([\s\S]*?)^```$/m.exec(text.slice(at + marker.length));
  if (block === null) throw new Error(`${guide}: no fenced block after '${marker}'`);
  const used = new Set<string>();
  const missing = new Set<string>();
  const filled = block[1].replace(PLACEHOLDER, (whole, key: string) => {
    const value = values[key];
    if (value === undefined) {
      missing.add(key);
      return whole;
    }
    used.add(key);
    return value;
  });
  if (missing.size > 0) throw new Error(`${guide} '${name}': no value for ${[...missing].join(', ')}`);
  const unused = Object.keys(values).filter((key) => !used.has(key));
  if (unused.length > 0) throw new Error(`${guide} '${name}': the block has no ${unused.join(', ')}`);
  return filled;
}
