/**
 * CRC-32 (IEEE 802.3, the polynomial zlib, gzip and PNG use) for every WAL record, segment
 * header and snapshot file.
 *
 * Owns: one checksum function with a stable result. Must never: change its polynomial or
 * initial value — every byte on disk was checked with it (a change needs a new format version).
 *
 * Why two implementations: node:zlib's native crc32 exists from Node 20.15 / 22.2 and is an
 * order of magnitude faster than JavaScript, but package.json promises Node >= 20, so older
 * 20.x releases fall back to a table-driven version (slicing by one byte). Both give the same
 * value for the same bytes; a test checks that they agree.
 */
import * as zlib from 'node:zlib';

const POLYNOMIAL_REVERSED = 0xedb88320;

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? POLYNOMIAL_REVERSED ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

let table: Uint32Array | null = null;

/** Table-driven CRC-32; `previous` continues a checksum over a following chunk of bytes. */
export function crc32Portable(bytes: Uint8Array, previous = 0): number {
  if (table === null) table = buildTable();
  const t = table;
  let crc = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) crc = t[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

type Crc32Fn = (bytes: Uint8Array, previous?: number) => number;

const nativeCrc32 = (zlib as unknown as { crc32?: Crc32Fn }).crc32;

/** CRC-32 of `bytes`, continuing from `previous` (0 to start). Native when Node has it. */
export const crc32: Crc32Fn = typeof nativeCrc32 === 'function'
  ? (bytes, previous = 0) => nativeCrc32(bytes, previous)
  : crc32Portable;

/** Whether the fast native implementation is in use (for the benchmark's report). */
export const crc32IsNative: boolean = typeof nativeCrc32 === 'function';
