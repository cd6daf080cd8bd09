/**
 * Cairn's write-ahead log and snapshot files — the public face of src/wal.
 *
 * Owns nothing itself: re-exports. The WAL imports only node: modules and knows nothing of
 * Raft; src/server/raft-storage.ts gives its records their meaning.
 */
export { Wal, DEFAULT_SEGMENT_SIZE_BYTES, DEFAULT_PREALLOCATE_BYTES, MAX_PENDING_BYTES, type WalOptions, type WalStats, type OpenedWal } from './wal.js';
export { type WalRecord, MAX_RECORD_BYTES, WAL_FORMAT_VERSION, segmentFileName, parseSegmentFileName } from './format.js';
export { WalError, isWalError, SILENT_LOGGER, type WalErrorKind, type WalLogger } from './errors.js';
export {
  saveSnapshot, loadSnapshot, loadNewestSnapshot, listSnapshotFiles, pruneSnapshots, snapshotFileName,
  DEFAULT_MAX_SNAPSHOTS, SNAPSHOT_FORMAT_VERSION, type SnapshotMeta, type SnapshotFileName,
} from './snapshot-file.js';
export { crc32 } from './crc32.js';
