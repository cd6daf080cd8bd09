/**
 * Where the project is and how to launch its entry points, found from this module's own URL so
 * that it works both from TypeScript (test/support/*.ts under tsx) and compiled
 * (dist/test/support/*.js under plain node).
 *
 * Must never depend on the working directory or on tsx being present when compiled.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** True when this module runs from dist/ (compiled by tsc), false under tsx. */
export const runningCompiled = here.split(sep).includes('dist') && !import.meta.url.endsWith('.ts');

/** The repository root (the folder holding package.json). */
export const projectRoot = runningCompiled ? resolve(here, '..', '..', '..') : resolve(here, '..', '..');

/** A command line that runs one of our entry points: `node [--import tsx] <file>`. */
export interface NodeEntry {
  readonly command: string;
  readonly args: readonly string[];
  readonly file: string;
}

/**
 * How to run `src/<relative>.ts`: compiled → `node dist/src/<relative>.js`; under tsx →
 * `node --import tsx src/<relative>.ts`. `CAIRN_ENTRY` (a path to a .js or .ts file)
 * overrides the cairn server's entry for both.
 */
export function nodeEntry(relativeWithoutExt: string): NodeEntry {
  const override = relativeWithoutExt === 'src/bin/cairn' ? process.env.CAIRN_ENTRY : undefined;
  const file = override !== undefined && override !== ''
    ? resolve(override)
    : runningCompiled
      ? join(projectRoot, 'dist', `${relativeWithoutExt}.js`)
      : join(projectRoot, `${relativeWithoutExt}.ts`);
  const args = file.endsWith('.ts') ? ['--import', 'tsx', file] : [file];
  return { command: process.execPath, args, file };
}

/** The cairn server's entry, and whether it exists yet. */
export function cairnEntry(): NodeEntry & { exists: boolean } {
  const entry = nodeEntry('src/bin/cairn');
  return { ...entry, exists: existsSync(entry.file) };
}
