/**
 * The auth table on LMDB: one record per user, per role, and one for the enabled flag and the
 * auth revision (formats in auth/auth-store.ts), in a named database of the store's environment,
 * so auth changes commit in the same write transaction as the batch they are applied in, and
 * travel in snapshots with the key space.
 *
 * Must only be written from inside a store write transaction (the apply step's `inTxn`).
 */
import type { Database } from 'lmdb';
import type { AuthTable, AuthTableChange } from '../auth/auth-store.js';

export const AUTH_TABLE_NAME = 'server.auth';

export class LmdbAuthTable implements AuthTable {
  /** `db`: the store's table named AUTH_TABLE_NAME (MvccStore.openTable). */
  constructor(private readonly db: Database<Buffer, Buffer>) {}

  write(changes: readonly AuthTableChange[]): void {
    for (const c of changes) {
      const key = Buffer.from(c.key, 'utf8');
      if (c.value === null) void this.db.remove(key);
      else void this.db.put(key, Buffer.from(c.value, 'utf8'));
    }
  }

  loadAll(): Array<{ key: string; value: string }> {
    const out: Array<{ key: string; value: string }> = [];
    for (const { key, value } of this.db.getRange({})) {
      out.push({ key: (key as Buffer).toString('utf8'), value: (value as Buffer).toString('utf8') });
    }
    return out;
  }
}
