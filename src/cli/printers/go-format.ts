/**
 * Go's text formatting, re-done for the few verbs etcdctl's output depends on: `%q` of a byte
 * string (strconv.Quote), encoding/json's marshalling (HTML-safe escapes, int64 as numbers),
 * time.Duration's String, go-humanize's Bytes, and `%x` of unsigned 64-bit IDs.
 *
 * Must never: lose a 64-bit value through a JavaScript number, or depend on the locale.
 */

const shortEscapes: Record<number, string> = {
  0x07: '\\a', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x0b: '\\v',
  0x5c: '\\\\', 0x22: '\\"',
};

/** Whether Go's unicode.IsPrint holds (close enough: letters, marks, numbers, punctuation, symbols, ASCII space). */
function isPrint(cp: number): boolean {
  if (cp === 0x20) return true;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(String.fromCodePoint(cp));
}

/** Decodes one UTF-8 sequence at `i`; returns [codePoint, length] or null when invalid. */
function utf8At(b: Uint8Array, i: number): [number, number] | null {
  const c = b[i];
  if (c < 0x80) return [c, 1];
  const len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (len === 0 || i + len > b.length || (c >= 0xe0 && len === 2)) return null;
  let cp = c & (0xff >> (len + 1));
  for (let k = 1; k < len; k++) {
    const n = b[i + k];
    if ((n & 0xc0) !== 0x80) return null;
    cp = (cp << 6) | (n & 0x3f);
  }
  const min = [0, 0, 0x80, 0x800, 0x10000][len];
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
  return [cp, len];
}

/** strconv.Quote of a byte string: `%q` in etcdctl's fields output. */
export function goQuote(input: Uint8Array | string): string {
  const b = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let out = '"';
  for (let i = 0; i < b.length;) {
    const d = utf8At(b, i);
    if (d === null) {
      out += '\\x' + b[i].toString(16).padStart(2, '0');
      i++;
      continue;
    }
    const [cp, len] = d;
    i += len;
    if (shortEscapes[cp] !== undefined) out += shortEscapes[cp];
    else if (isPrint(cp)) out += String.fromCodePoint(cp);
    else if (cp < 0x80) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** encoding/json's string escaping (HTML-safe, as Go marshals by default). */
export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || ch === '<' || ch === '>' || ch === '&' || cp === 0x2028 || cp === 0x2029) {
      out += '\\u' + cp.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}

/** JSON as Go's encoding/json writes it: bigint as bare digits, keys in insertion order. */
export function goJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return goJsonString(v);
  if (Array.isArray(v)) return '[' + v.map(goJson).join(',') + ']';
  const parts: string[] = [];
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val === undefined) continue;
    parts.push(goJsonString(k) + ':' + goJson(val));
  }
  return '{' + parts.join(',') + '}';
}

/** A 64-bit value as Go prints a uint64 (IDs are unsigned even when the gateway sends them signed). */
export function asUint64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}

/** `%x` of a uint64. */
export function hex64(v: bigint): string {
  return asUint64(v).toString(16);
}
/** `%016x`: lease IDs. */
export function hex016(v: bigint): string {
  return hex64(v).padStart(16, '0');
}
/** `%16x`: member IDs in `member add/remove/update` lines (space-padded). */
export function hex16Spaces(v: bigint): string {
  return hex64(v).padStart(16, ' ');
}

/** etcdctl's `--hex`: every byte as `\xNN`. */
export function hexEscaped(b: Uint8Array): string {
  let out = '';
  for (const x of b) out += '\\x' + x.toString(16).padStart(2, '0');
  return out;
}

/** go-humanize's Bytes: SI units, one decimal below 10. */
export function humanizeBytes(n: bigint | number): string {
  const s = Number(n);
  if (s < 10) return `${s} B`;
  const sizes = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.floor(Math.log(s) / Math.log(1000));
  const val = Math.floor((s / Math.pow(1000, e)) * 10 + 0.5) / 10;
  return val < 10 ? `${val.toFixed(1)} ${sizes[e]}` : `${goFixed0(val)} ${sizes[e]}`;
}

/** Go's `%.0f`: an exact half rounds to even (20.5 → "20"), unlike toFixed (→ "21"). */
export function goFixed0(x: number): string {
  const floor = Math.floor(x);
  if (x - floor === 0.5) return String(floor % 2 === 0 ? floor : floor + 1);
  return x.toFixed(0);
}

/** Go's time.Duration String for a duration in nanoseconds (e.g. `1.336245ms`, `2.5s`). */
export function goDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  const u = neg ? -ns : ns;
  const sign = neg ? '-' : '';
  if (u < 1000n) return `${sign}${u}ns`;
  if (u < 1_000_000n) return sign + fraction(u, 1000n) + 'µs';
  if (u < 1_000_000_000n) return sign + fraction(u, 1_000_000n) + 'ms';
  return sign + longDuration(u);
}

function fraction(v: bigint, unit: bigint): string {
  const whole = v / unit;
  const rest = v % unit;
  if (rest === 0n) return whole.toString();
  const digits = unit.toString().length - 1;
  return `${whole}.${rest.toString().padStart(digits, '0').replace(/0+$/, '')}`;
}

function longDuration(u: bigint): string {
  const hours = u / 3_600_000_000_000n;
  const minutes = (u / 60_000_000_000n) % 60n;
  const secNs = u % 60_000_000_000n;
  let out = '';
  if (hours > 0n) out += `${hours}h`;
  if (hours > 0n || minutes > 0n) out += `${minutes}m`;
  return out + fraction(secNs, 1_000_000_000n) + 's';
}

/** Go's `%f` (six decimals). */
export function goFloat6(x: number): string {
  return x.toFixed(6);
}
