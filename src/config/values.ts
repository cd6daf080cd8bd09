/**
 * Parsers for one raw setting value (a string from a flag or the environment, or a scalar or
 * list from the YAML file, already turned into strings) into a typed value.
 *
 * Owns: the syntax of integers, booleans, enums, lists and Go-style durations, and the exact
 * wording of "expected ..." in error messages. Must never: read files or the environment, or
 * know about other settings (cross-setting checks live in build.ts).
 */
import { ConfigError, invalidValue, type Origin } from './config-error.js';

/** A raw value: one string, or a YAML list (only list-valued settings accept one). */
export type RawValue = string | readonly string[];

export interface RawEntry {
  readonly value: RawValue;
  readonly origin: Origin;
}

/** The one string of a scalar setting; a YAML list given for it is an error. */
export function scalar(entry: RawEntry): string {
  if (typeof entry.value === 'string') return entry.value;
  throw invalidValue(entry.value, entry.origin, 'expected a single value, not a list');
}

/** A list setting: a YAML list, or one comma-separated string (etcd's form). Empties dropped. */
export function list(entry: RawEntry): string[] {
  const items = typeof entry.value === 'string' ? entry.value.split(',') : [...entry.value];
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

export interface IntRule {
  readonly min: number;
  readonly max?: number;
  /** Shown in errors: "milliseconds", "bytes", "operations". */
  readonly unit: string;
}

/**
 * Decimal digits only: Go's flag package would also take 0x10 and 1_000, which hide typos in an
 * operator's file; nobody writes a timeout in hex.
 */
export function parseInteger(entry: RawEntry, rule: IntRule): number {
  const text = scalar(entry).trim();
  const what = rule.min >= 1 ? 'a positive integer' : 'a non-negative integer';
  const limit = rule.max === undefined ? '' : ` at most ${rule.max}`;
  const expected = `expected ${what}${limit} (${rule.unit})`;
  if (!/^\d+$/.test(text)) throw invalidValue(text, entry.origin, expected);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < rule.min) throw invalidValue(text, entry.origin, expected);
  if (rule.max !== undefined && value > rule.max) throw invalidValue(text, entry.origin, expected);
  return value;
}

/** A signed 64-bit integer kept exact (revision counts). */
export function parseBigUint(entry: RawEntry, unit: string): bigint {
  const text = scalar(entry).trim();
  const expected = `expected a non-negative integer (${unit})`;
  if (!/^\d+$/.test(text)) throw invalidValue(text, entry.origin, expected);
  const value = BigInt(text);
  if (value > 0x7fff_ffff_ffff_ffffn) throw invalidValue(text, entry.origin, expected);
  return value;
}

const TRUE_WORDS = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/** Go's strconv.ParseBool, which etcd uses for flags and ETCD_* variables alike. */
export function parseBool(entry: RawEntry): boolean {
  const text = scalar(entry).trim();
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  throw invalidValue(text, entry.origin, 'expected true or false');
}

export function parseEnum<T extends string>(entry: RawEntry, allowed: readonly T[]): T {
  const text = scalar(entry).trim();
  const found = allowed.find((candidate) => candidate === text);
  if (found !== undefined) return found;
  throw invalidValue(text, entry.origin, `expected one of ${allowed.join(', ')}`);
}

const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

/**
 * Go's time.ParseDuration ("1h30m", "90s", "1.5h"), returned in milliseconds. Returns null when
 * the text is not a duration, so callers can word the error for their setting.
 */
export function parseGoDurationMs(text: string): number | null {
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let totalMs = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const match = part.exec(text);
    if (match === null) return null;
    totalMs += Number(match[1]) * DURATION_UNIT_MS[match[2]];
    at = part.lastIndex;
  }
  return at === 0 ? null : totalMs;
}

/** A path or name that must not be empty once given. */
export function parseNonEmpty(entry: RawEntry, what: string): string {
  const text = scalar(entry).trim();
  if (text === '') throw new ConfigError(`empty value for ${entry.origin.label}: expected ${what}`);
  return text;
}
