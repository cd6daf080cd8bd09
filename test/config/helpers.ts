/**
 * Test helpers for src/config: load with fresh argv/env, expect a config or a ConfigError, and
 * write throwaway YAML files. Never touches the real environment.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadServerConfig, type Config } from '../../src/config/index.js';

export type Env = Record<string, string | undefined>;

export function load(argv: string[], env: Env = {}): { config: Config; warnings: string[] } {
  const result = loadServerConfig(argv, env);
  assert.equal(result.kind, 'config');
  if (result.kind !== 'config') throw new Error('unreachable');
  return { config: result.config, warnings: result.warnings };
}

/** Asserts a ConfigError whose message matches exactly (string) or the pattern. */
export function loadFails(argv: string[], env: Env, expected: string | RegExp): string {
  let message = '';
  assert.throws(
    () => loadServerConfig(argv, env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
      message = error.message;
      if (typeof expected === 'string') assert.equal(error.message, expected);
      else assert.match(error.message, expected);
      return true;
    },
  );
  return message;
}

let scratch: string | undefined;

/** Writes a YAML file in a per-process temporary directory and returns its path. */
export function yamlFile(name: string, text: string): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'cairn-config-test-'));
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

export function urls(list: readonly URL[]): string[] {
  return list.map((url) => `${url.protocol}//${url.host}`);
}
