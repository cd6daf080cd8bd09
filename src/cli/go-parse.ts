/**
 * Parsing the way etcdctl's Go code parses its arguments, including its error texts: integers
 * (strconv.ParseInt, base 10 or 16), durations (time.ParseDuration), booleans.
 *
 * Must never: accept what Go would reject silently (a scripted typo must fail the same way).
 */

/** strconv.ParseInt(s, base, 64); throws Error with Go's message. */
export function parseGoInt(s: string, base: 10 | 16): bigint {
  const syntax = (): Error => new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const body = s.replace(/^[+-]/, '');
  const digits = base === 16 ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/;
  if (!digits.test(body)) throw syntax();
  const v = BigInt((s.startsWith('-') ? '-' : '') + (base === 16 ? '0x' + body : body));
  if (v > 0x7fffffffffffffffn || v < -0x8000000000000000n) {
    throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  }
  return v;
}

/** strconv.ParseUint(s, 16, 64) for member IDs. */
export function parseGoUintHex(s: string): bigint {
  if (!/^[0-9a-fA-F]+$/.test(s)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
  const v = BigInt('0x' + s);
  if (v > 0xffffffffffffffffn) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  return v;
}

const unitNs: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** time.ParseDuration → milliseconds. */
export function parseGoDurationMs(s: string): number {
  const bad = (): Error => new Error(`time: invalid duration ${JSON.stringify(s)}`);
  if (s === '0' || s === '+0' || s === '-0') return 0;
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(s);
  if (!m) {
    if (/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(s)) throw new Error(`time: missing unit in duration ${JSON.stringify(s)}`);
    throw bad();
  }
  let totalNs = 0;
  for (const part of s.replace(/^[+-]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    totalNs += Number(part[1]) * unitNs[part[2]];
  }
  return (m[1] === '-' ? -totalNs : totalNs) / 1e6;
}

/** strconv.ParseBool. */
export function parseGoBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax`);
}
