/**
 * Helpers for the deployment-file tests: find the repository root (from source under tsx or
 * compiled under dist/), read files, parse systemd unit and EnvironmentFile syntax.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding Cairn's package.json: two levels up from test/deploy, three from dist/test/deploy. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'cairn') return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the cairn repository root above this test');
}

export function readRepoFile(...parts: string[]): string {
  return readFileSync(join(repoRoot(), ...parts), 'utf8');
}

/** A systemd unit as section → key → values (a key may repeat). */
export type Unit = Map<string, Map<string, string[]>>;

export function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) {
      section = new Map();
      unit.set(header[1], section);
      continue;
    }
    const eq = line.indexOf('=');
    if (section === undefined || eq < 0) throw new Error(`unit line outside a section or without "=": ${line}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** systemd EnvironmentFile= syntax: KEY=VALUE lines, # and ; comments, quotes around the value stripped. */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match === null) throw new Error(`not an EnvironmentFile line: ${line}`);
    const quoted = /^"(.*)"$|^'(.*)'$/.exec(match[2]);
    env[match[1]] = quoted === null ? match[2] : (quoted[1] ?? quoted[2]);
  }
  return env;
}
