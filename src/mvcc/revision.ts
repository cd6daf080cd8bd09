/**
 * Revision encoding: a revision is (main, sub). `main` is the store-wide counter that every
 * changing write bumps once; `sub` orders the changes inside that one write (a txn or a
 * multi-key delete). On disk a revision is 12 big-endian bytes, main (u64) then sub (u32), so
 * byte order is revision order and LMDB cursors walk history in revision order.
 *
 * This module owns only the byte layout; it must never touch LMDB.
 */

export const REVISION_BYTES = 12;
/** The largest sub revision one write may produce (u32). */
export const MAX_SUB_REVISION = 0xffff_ffff;

export function encodeRevision(main: bigint, sub: number, out?: Buffer, offset = 0): Buffer {
  const buf = out ?? Buffer.allocUnsafe(REVISION_BYTES);
  buf.writeBigUInt64BE(main, offset);
  buf.writeUInt32BE(sub, offset + 8);
  return buf;
}

export function decodeRevisionMain(buf: Uint8Array, offset = 0): bigint {
  return asBuffer(buf).readBigUInt64BE(offset);
}

export function decodeRevisionSub(buf: Uint8Array, offset = 0): number {
  return asBuffer(buf).readUInt32BE(offset + 8);
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** 8-byte big-endian encoding of an unsigned 64-bit id (key ids, meta counters). */
export function encodeU64(value: bigint): Buffer {
  const buf = Buffer.allocUnsafe(8);
  buf.writeBigUInt64BE(value);
  return buf;
}

/** Leases are int64 in etcd; store them as signed big-endian so any id round-trips. */
export function encodeLease(lease: bigint): Buffer {
  const buf = Buffer.allocUnsafe(8);
  buf.writeBigInt64BE(lease);
  return buf;
}
