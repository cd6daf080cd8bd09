/**
 * The lease table on LMDB: one record per lease (format in lease/lease-record.ts) in a named
 * database of the store's environment, so lease changes commit in the same write transaction
 * as the keys they attach (the apply step writes them from the store's `inTxn`).
 *
 * Must only be written from inside a store write transaction; reads happen once, at startup.
 */
import type { Database } from 'lmdb';
import {
  decodeLeaseKey, decodeLeaseValue, encodeLeaseKey, encodeLeaseValue, type LeaseRecord, type LeaseTable,
} from '../lease/lease-record.js';

export const LEASE_TABLE_NAME = 'server.leases';

export class LmdbLeaseTable implements LeaseTable {
  private readonly db: Database<Buffer, Buffer>;

  /** `db`: the store's table named LEASE_TABLE_NAME (MvccStore.openTable). */
  constructor(db: Database<Buffer, Buffer>) {
    this.db = db;
  }

  put(record: LeaseRecord): void {
    void this.db.put(Buffer.from(encodeLeaseKey(record.id)), Buffer.from(encodeLeaseValue(record)));
  }

  remove(id: bigint): void {
    void this.db.remove(Buffer.from(encodeLeaseKey(id)));
  }

  loadAll(): LeaseRecord[] {
    const out: LeaseRecord[] = [];
    for (const { key, value } of this.db.getRange({})) {
      const id = decodeLeaseKey(key as Buffer);
      out.push(decodeLeaseValue(id, value as Buffer));
    }
    return out;
  }
}
