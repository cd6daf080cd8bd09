/**
 * The LMDB environment of the key space and its tables, plus the `meta` table's fields.
 *
 *   latest     user key             -> latest record (live keys only: current reads are one get)
 *   graveyard  user key             -> grave record (deleted keys whose history is not compacted)
 *   revs       revision (12 B)      -> version record (every change, in revision order; each
 *                                      names the key's previous change, so history is a chain)
 *   leaseKeys  lease (8) + user key -> empty
 *   meta       field name           -> u64 / bytes
 *
 * This module owns the layout version and refuses a data dir written with another one. It
 * never applies requests; it opens, names and counts tables.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { encodeU64 } from './revision.js';

/** Bump when any table's key or record format changes; older dirs are then refused. */
export const MVCC_LAYOUT_VERSION = 2n;

export type BinaryTable = Database<Buffer, Buffer>;

export interface MvccTables {
  env: RootDatabase;
  latest: BinaryTable;
  graveyard: BinaryTable;
  revs: BinaryTable;
  leaseKeys: BinaryTable;
  meta: BinaryTable;
}

/** Flags for every write transaction: abortable, committed before returning, no fsync (see sync()). */
export const WRITE_TXN_FLAGS = 0x1 | 0x2 | 0x10000;

export const META = {
  layout: Buffer.from('layoutVersion'),
  revision: Buffer.from('currentRevision'),
  compact: Buffer.from('compactRevision'),
  /** Physical compaction target; equals `compact` once scheduled. */
  compactTarget: Buffer.from('compactTarget'),
  /** Last `revs` key that physical compaction has processed (12 bytes), absent before the first. */
  compactProgress: Buffer.from('compactProgress'),
  /** The highest target physical compaction has completed. */
  compactDone: Buffer.from('compactDone'),
  applied: Buffer.from('appliedIndex'),
} as const;

/** Extra named databases left for the server's own tables in the same environment. */
const MAX_DBS = 32;

export function openTables(dir: string, mapSizeBytes?: number): MvccTables {
  const env = open({
    path: dir,
    maxDbs: MAX_DBS,
    ...(mapSizeBytes !== undefined ? { mapSize: mapSizeBytes } : {}),
    // Overlapping sync makes each synchronous commit wait for the previous flush (~0.4 ms on the
    // main thread). Commits here skip fsync instead, and MvccStore.sync() forces it.
    overlappingSync: false,
  });
  const table = (name: string): BinaryTable =>
    env.openDB<Buffer, Buffer>({ name: `mvcc.${name}`, keyEncoding: 'binary', encoding: 'binary', cache: false });
  return {
    env,
    latest: table('latest'),
    graveyard: table('graveyard'),
    revs: table('revs'),
    leaseKeys: table('leaseKeys'),
    meta: table('meta'),
  };
}

export function readMetaU64(t: MvccTables, field: Buffer): bigint | undefined {
  const v = t.meta.get(field);
  if (v === undefined) return undefined;
  if (v.length !== 8) throw new Error(`mvcc: corrupt meta field ${field.toString()} (length ${v.length})`);
  return v.readBigUInt64BE(0);
}

export function writeMetaU64(t: MvccTables, field: Buffer, value: bigint): void {
  t.meta.put(field, encodeU64(value));
}

export function entryCount(table: BinaryTable): number {
  return (table.getStats() as { entryCount: number }).entryCount;
}
