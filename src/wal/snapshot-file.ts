/**
 * Snapshot files: one file per snapshot, named `%016x-%016x.snap` (term, index) like etcd's,
 * holding opaque bytes under a header with a version and a CRC.
 *
 * Owns: writing a snapshot file atomically (temporary file, fdatasync, rename, folder fsync),
 * reading one back with its checks, finding the newest good one, keeping only the newest N.
 * Must never: interpret the payload, or delete a file it did not name itself.
 *
 *   file = magic "CAIRNSNP" (8) | format version u32 | index u64 | term u64 | payload length u64
 *          | crc32 u32 (over the 36 header bytes before it, then the payload) | payload
 */
import { mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from './crc32.js';
import { WalError, SILENT_LOGGER, type WalLogger } from './errors.js';
import { fsyncDir, writeFileAtomic } from './file-io.js';
import { MAX_RECORD_BYTES } from './format.js';

export const SNAPSHOT_MAGIC = Buffer.from('CAIRNSNP', 'latin1');
export const SNAPSHOT_FORMAT_VERSION = 1;
export const SNAPSHOT_HEADER_BYTES = 40;
/** etcd's --max-snapshots default. 0 keeps every file. */
export const DEFAULT_MAX_SNAPSHOTS = 5;
/** Largest payload read back: the snapshot is held in memory whole. */
export const MAX_SNAPSHOT_BYTES = 16 * MAX_RECORD_BYTES;
const TWO_POW_32 = 0x1_0000_0000;

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

export interface SnapshotFileName {
  readonly name: string;
  readonly term: number;
  readonly index: number;
}

const SNAP_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

export function snapshotFileName(term: number, index: number): string {
  return `${term.toString(16).padStart(16, '0')}-${index.toString(16).padStart(16, '0')}.snap`;
}

/** Snapshot files in `dir`, newest (highest index, then term) first. */
export async function listSnapshotFiles(dir: string): Promise<SnapshotFileName[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const found: SnapshotFileName[] = [];
  for (const name of names) {
    const m = SNAP_NAME.exec(name);
    if (m === null) continue;
    const term = parseInt(m[1], 16);
    const index = parseInt(m[2], 16);
    if (Number.isSafeInteger(term) && Number.isSafeInteger(index)) found.push({ name, term, index });
  }
  return found.sort((a, b) => b.index - a.index || b.term - a.term);
}

function writeU64(buf: Buffer, pos: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / TWO_POW_32), pos);
  buf.writeUInt32BE(n >>> 0, pos + 4);
}

function readU64(buf: Buffer, pos: number): number {
  return buf.readUInt32BE(pos) * TWO_POW_32 + buf.readUInt32BE(pos + 4);
}

export function encodeSnapshotFile(meta: SnapshotMeta): Buffer {
  const buf = Buffer.allocUnsafe(SNAPSHOT_HEADER_BYTES + meta.data.length);
  SNAPSHOT_MAGIC.copy(buf, 0);
  buf.writeUInt32BE(SNAPSHOT_FORMAT_VERSION, 8);
  writeU64(buf, 12, meta.index);
  writeU64(buf, 20, meta.term);
  writeU64(buf, 28, meta.data.length);
  buf.set(meta.data, SNAPSHOT_HEADER_BYTES);
  buf.writeUInt32BE(crc32(meta.data, crc32(buf.subarray(0, 36))), 36);
  return buf;
}

/** Checks a snapshot file's bytes; the returned data is a view into `buf`. */
export function decodeSnapshotFile(buf: Buffer, file: string): SnapshotMeta {
  const bad = (what: string, offset: number): WalError =>
    new WalError('Corrupt', `snapshot file ${file}: ${what} at byte offset ${offset}`);
  if (buf.length < SNAPSHOT_HEADER_BYTES) throw bad(`header cut short (${buf.length} bytes)`, buf.length);
  if (!buf.subarray(0, 8).equals(SNAPSHOT_MAGIC)) throw bad('bad magic, not a Cairn snapshot', 0);
  const version = buf.readUInt32BE(8);
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw new WalError('UnsupportedVersion',
      `snapshot file ${file}: format version ${version} at byte offset 8; this build of Cairn reads snapshot format version ${SNAPSHOT_FORMAT_VERSION} only`);
  }
  const index = readU64(buf, 12);
  const term = readU64(buf, 20);
  const length = readU64(buf, 28);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(term)) throw bad('index or term beyond 2^53', 12);
  if (length !== buf.length - SNAPSHOT_HEADER_BYTES) {
    throw bad(`payload length ${length} but ${buf.length - SNAPSHOT_HEADER_BYTES} bytes follow the header`, 28);
  }
  const data = buf.subarray(SNAPSHOT_HEADER_BYTES);
  if (crc32(data, crc32(buf.subarray(0, 36))) !== buf.readUInt32BE(36)) throw bad('CRC mismatch', 36);
  return { index, term, data };
}

export interface SaveSnapshotOptions {
  /** Keep only this many newest snapshot files after saving (0: keep all). */
  readonly maxSnapshots?: number;
  readonly logger?: WalLogger;
}

/** Writes a snapshot file durably and atomically, then prunes old ones. Returns its name. */
export async function saveSnapshot(dir: string, meta: SnapshotMeta, opts: SaveSnapshotOptions = {}): Promise<string> {
  if (!Number.isSafeInteger(meta.index) || !Number.isSafeInteger(meta.term) || meta.index < 0 || meta.term < 0) {
    throw new WalError('InvalidArgument', `snapshot index ${meta.index} term ${meta.term}`);
  }
  if (meta.data.length > MAX_SNAPSHOT_BYTES) {
    throw new WalError('InvalidArgument', `snapshot of ${meta.data.length} bytes exceeds the ${MAX_SNAPSHOT_BYTES}-byte limit`);
  }
  await mkdir(dir, { recursive: true });
  const name = snapshotFileName(meta.term, meta.index);
  await writeFileAtomic(join(dir, name), encodeSnapshotFile(meta));
  await pruneSnapshots(dir, opts.maxSnapshots ?? DEFAULT_MAX_SNAPSHOTS, opts.logger ?? SILENT_LOGGER);
  return name;
}

/** Deletes all but the newest `keep` snapshot files (0 keeps all), and stray temporaries. */
export async function pruneSnapshots(dir: string, keep: number, logger: WalLogger): Promise<void> {
  let removed = 0;
  for (const name of await readdir(dir)) {
    if (name.endsWith('.snap.tmp')) {
      await unlink(join(dir, name));
      removed++;
    }
  }
  if (keep > 0) {
    const old = (await listSnapshotFiles(dir)).slice(keep);
    for (const f of old) await unlink(join(dir, f.name));
    if (old.length > 0) logger.info({ dir, removed: old.map((f) => f.name) }, 'snapshot: removed old snapshot files');
    removed += old.length;
  }
  if (removed > 0) await fsyncDir(dir);
}

/** Reads and checks one snapshot file; throws WalError when it is damaged or missing. */
export async function loadSnapshot(dir: string, term: number, index: number): Promise<SnapshotMeta> {
  const name = snapshotFileName(term, index);
  let buf: Buffer;
  try {
    buf = await readFile(join(dir, name));
  } catch (e) {
    throw new WalError('Corrupt', `snapshot file ${name} in ${dir} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  const meta = decodeSnapshotFile(buf, name);
  if (meta.index !== index || meta.term !== term) {
    throw new WalError('Corrupt', `snapshot file ${name}: header says index ${meta.index} term ${meta.term}, which disagrees with the file name`);
  }
  return meta;
}

export interface LoadNewestOptions {
  readonly logger?: WalLogger;
  /** Only consider snapshots this returns true for (for example, ones the WAL knows of). */
  readonly accept?: (index: number, term: number) => boolean;
}

/** The newest snapshot file that reads back intact, skipping (and logging) damaged ones. */
export async function loadNewestSnapshot(dir: string, opts: LoadNewestOptions = {}): Promise<SnapshotMeta | null> {
  const logger = opts.logger ?? SILENT_LOGGER;
  for (const f of await listSnapshotFiles(dir)) {
    if (opts.accept !== undefined && !opts.accept(f.index, f.term)) continue;
    try {
      return await loadSnapshot(dir, f.term, f.index);
    } catch (e) {
      logger.warn({ file: f.name, err: (e as Error).message }, 'snapshot: skipping a damaged snapshot file');
    }
  }
  return null;
}
