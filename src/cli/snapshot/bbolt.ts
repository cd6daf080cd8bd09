/**
 * Read-only walk over a bbolt file, the format of etcd's snapshots: meta pages, branch and
 * leaf pages, inline buckets. Enough for `snapshot status` on an etcd snapshot: the buckets in
 * order and every key/value of each, read straight from the file's pages.
 *
 * Must never: write to the file, or follow a page id outside the file (corrupt input fails
 * with "invalid database" rather than looping or reading out of bounds).
 */
const magic = 0xed0cdaed;
const pageHeaderBytes = 16;
const elementBytes = 16;
const branchFlag = 0x01;
const leafFlag = 0x02;
const bucketLeafFlag = 0x01;
/** Deepest B+tree accepted: bbolt trees are shallow; deeper means a cycle or corruption. */
const maxTreeDepth = 64;

export class InvalidDatabase extends Error {
  constructor() { super('invalid database'); }
}

interface Meta { pageSize: number; rootPgid: bigint; highWaterPgid: bigint; txid: bigint }

function readMeta(file: Buffer, offset: number): Meta | null {
  const m = offset + pageHeaderBytes;
  if (m + 64 > file.length) return null;
  if (file.readUInt32LE(m) !== magic || file.readUInt32LE(m + 4) !== 2) return null;
  return {
    pageSize: file.readUInt32LE(m + 8), rootPgid: file.readBigUInt64LE(m + 16),
    highWaterPgid: file.readBigUInt64LE(m + 40), txid: file.readBigUInt64LE(m + 48),
  };
}

export interface BoltDb { file: Buffer; meta: Meta }

export function openBolt(file: Buffer): BoltDb {
  const first = readMeta(file, 0);
  if (first === null) throw new InvalidDatabase();
  const second = readMeta(file, first.pageSize);
  const meta = second !== null && second.txid > first.txid ? second : first;
  return { file, meta };
}

/** The size bbolt reports for the database: its high-water page count times the page size. */
export function boltSize(db: BoltDb): bigint {
  return db.meta.highWaterPgid * BigInt(db.meta.pageSize);
}

type Visit = (key: Buffer, value: Buffer, isBucket: boolean) => void;

/** Visits every key/value of the tree rooted in the page at `offset`, in key order. */
function walkPage(db: BoltDb, page: Buffer, visit: Visit, depth: number): void {
  if (depth > maxTreeDepth || page.length < pageHeaderBytes) throw new InvalidDatabase();
  const flags = page.readUInt16LE(8);
  const count = page.readUInt16LE(10);
  for (let i = 0; i < count; i++) {
    const e = pageHeaderBytes + i * elementBytes;
    if (e + elementBytes > page.length) throw new InvalidDatabase();
    if (flags & branchFlag) {
      walkPage(db, pageAt(db, page.readBigUInt64LE(e + 8)), visit, depth + 1);
    } else if (flags & leafFlag) {
      const elFlags = page.readUInt32LE(e);
      const pos = page.readUInt32LE(e + 4);
      const ksize = page.readUInt32LE(e + 8);
      const vsize = page.readUInt32LE(e + 12);
      const kStart = e + pos;
      if (kStart + ksize + vsize > page.length) throw new InvalidDatabase();
      visit(page.subarray(kStart, kStart + ksize), page.subarray(kStart + ksize, kStart + ksize + vsize), (elFlags & bucketLeafFlag) !== 0);
    } else {
      throw new InvalidDatabase();
    }
  }
}

function pageAt(db: BoltDb, pgid: bigint): Buffer {
  const size = db.meta.pageSize;
  const start = Number(pgid) * size;
  if (pgid >= db.meta.highWaterPgid || start + pageHeaderBytes > db.file.length) throw new InvalidDatabase();
  const overflow = db.file.readUInt32LE(start + 12);
  const end = Math.min(db.file.length, start + (overflow + 1) * size);
  return db.file.subarray(start, end);
}

/** A bucket's tree: its own root page, or the page stored inline after the bucket header. */
function bucketRoot(db: BoltDb, bucketValue: Buffer): Buffer {
  if (bucketValue.length < 16) throw new InvalidDatabase();
  const root = bucketValue.readBigUInt64LE(0);
  return root === 0n ? bucketValue.subarray(16) : pageAt(db, root);
}

/** The top-level buckets in key order, each with a function visiting its key/values. */
export function forEachBucket(db: BoltDb, onBucket: (name: Buffer, forEach: (visit: Visit) => void) => void): void {
  walkPage(db, pageAt(db, db.meta.rootPgid), (name, value, isBucket) => {
    if (!isBucket) throw new InvalidDatabase();
    onBucket(name, (visit) => walkPage(db, bucketRoot(db, value), visit, 0));
  }, 0);
}
