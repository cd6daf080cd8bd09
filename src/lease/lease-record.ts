/**
 * What of a lease survives a restart: its ID, granted TTL and last checkpointed remaining TTL,
 * and the byte layout they are stored in. The expiry time is never stored (clocks differ across
 * members and restarts); a restored lease is given a fresh expiry when its member becomes the
 * primary, as etcd does.
 *
 * Layout (format 1): key = ID as 8-byte big-endian two's complement; value = [format u8 = 1]
 * [TTL seconds int64 BE][remaining TTL seconds int64 BE]. Decoding checks the length and the
 * format byte and refuses anything else.
 */

export interface LeaseRecord {
  id: bigint;
  ttlSec: bigint;
  /** 0n: no checkpoint, restore with the full TTL. */
  remainingTtlSec: bigint;
}

/** Persistence of lease records, written in the same transaction as the key space. */
export interface LeaseTable {
  put(record: LeaseRecord): void;
  remove(id: bigint): void;
  /** Every stored record (at startup). */
  loadAll(): LeaseRecord[];
}

export const LEASE_RECORD_FORMAT = 1;
const VALUE_BYTES = 17;

export function encodeLeaseKey(id: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, id);
  return b;
}

export function decodeLeaseKey(key: Uint8Array): bigint {
  if (key.length !== 8) throw new Error(`lease table: key of ${key.length} bytes, expected 8`);
  return new DataView(key.buffer, key.byteOffset, 8).getBigInt64(0);
}

export function encodeLeaseValue(r: LeaseRecord): Uint8Array {
  const b = new Uint8Array(VALUE_BYTES);
  const v = new DataView(b.buffer);
  v.setUint8(0, LEASE_RECORD_FORMAT);
  v.setBigInt64(1, r.ttlSec);
  v.setBigInt64(9, r.remainingTtlSec);
  return b;
}

export function decodeLeaseValue(id: bigint, value: Uint8Array): LeaseRecord {
  if (value.length !== VALUE_BYTES) throw new Error(`lease table: record of lease ${id} has ${value.length} bytes, expected ${VALUE_BYTES}`);
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const format = v.getUint8(0);
  if (format !== LEASE_RECORD_FORMAT) throw new Error(`lease table: record of lease ${id} has format ${format}, this version reads ${LEASE_RECORD_FORMAT}`);
  return { id, ttlSec: v.getBigInt64(1), remainingTtlSec: v.getBigInt64(9) };
}

/** The in-memory twin, for tests and for a store without a lease table. */
export class MemoryLeaseTable implements LeaseTable {
  readonly records = new Map<bigint, LeaseRecord>();

  put(record: LeaseRecord): void {
    this.records.set(record.id, { ...record });
  }

  remove(id: bigint): void {
    this.records.delete(id);
  }

  loadAll(): LeaseRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }
}
