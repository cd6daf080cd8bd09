/** Cairn's own version, read once from package.json. */
import { readFileSync } from 'node:fs';

function findPackageVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cairn' && pkg.version) return pkg.version;
    } catch {
      // try the next place: compiled code sits one folder deeper (dist/)
    }
  }
  return '0.0.0';
}

export const PACKAGE_VERSION = findPackageVersion();
