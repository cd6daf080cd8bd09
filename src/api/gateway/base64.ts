/**
 * Base64 as etcd's gateway reads and writes it: Go's `encoding/base64.StdEncoding` (padded,
 * standard alphabet, CR and LF ignored). Decoding reports the first bad byte exactly as Go
 * does (`illegal base64 data at input byte N`), because clients and tests match on that text.
 * Must never accept URL-safe or unpadded input that etcd refuses.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
const PAD = 0x3d; // '='
const CR = 0x0d;
const LF = 0x0a;

const EMPTY = new Uint8Array(0);

/** The byte offset Go would report for `s`, or -1 when `s` is valid standard base64. */
export function firstIllegalBase64Byte(s: string): number {
  let si = 0;
  const n = s.length;
  while (si < n) {
    let j = 0;
    for (; j < 4; j++) {
      if (si === n) {
        if (j === 0) return -1;
        return si - j;
      }
      const c = s.charCodeAt(si++);
      if (c < 256 && DECODE[c] >= 0) continue;
      if (c === LF || c === CR) { j--; continue; }
      if (c !== PAD) return si - 1;
      return paddingError(s, si, j);
    }
  }
  return -1;
}

/** After a '=' at quantum position j: Go's checks of the padding and what follows it. */
function paddingError(s: string, siAfterPad: number, j: number): number {
  let si = siAfterPad;
  const n = s.length;
  if (j < 2) return si - 1;
  if (j === 2) {
    while (si < n && (s.charCodeAt(si) === LF || s.charCodeAt(si) === CR)) si++;
    if (si === n) return n;
    if (s.charCodeAt(si) !== PAD) return si - 1;
    si++;
  }
  while (si < n && (s.charCodeAt(si) === LF || s.charCodeAt(si) === CR)) si++;
  return si < n ? si : -1;
}

export class Base64Error extends Error {
  constructor(readonly offset: number) {
    super(`illegal base64 data at input byte ${offset}`);
  }
}

/** Decodes standard base64 or throws Base64Error with Go's offset. */
export function decodeBase64(s: string): Uint8Array {
  if (s.length === 0) return EMPTY;
  const bad = firstIllegalBase64Byte(s);
  if (bad >= 0) throw new Base64Error(bad);
  return Buffer.from(s, 'base64');
}

export function encodeBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}
