/**
 * cairnctl's own version, read from the project's package.json (found from this module's URL,
 * so it works from src/ under tsx and from dist/ compiled).
 *
 * Must never: fail a command because package.json cannot be read (the version is then "unknown").
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The API version cairnctl speaks: etcd 3.4's v3 gateway. */
export const apiVersion = '3.4';

/** Folders to climb from this module to find package.json (src/cli or dist/src/cli). */
const maxParentLevels = 5;

export function cairnctlVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < maxParentLevels; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cairn' && typeof pkg.version === 'string') return pkg.version;
    } catch { /* not here: climb */ }
    dir = dirname(dir);
  }
  return 'unknown';
}
