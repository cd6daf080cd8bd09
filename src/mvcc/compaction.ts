/**
 * Physical compaction: removes history below the compaction revision C in short chunks, each
 * its own LMDB write transaction, so writes are never blocked for long.
 *
 * Rule (as etcd): for every key keep the newest version at or below C unless it is a tombstone;
 * remove everything older. Walking `revs` in order from where the previous pass stopped up to
 * C, each entry makes its predecessor (the previous version, recorded in the entry) obsolete; an entry that
 * is a tombstone is itself obsolete. A deleted key with no history left leaves the graveyard.
 * Progress is stored in `meta` in the same transaction as the removals, so a pass interrupted by
 * a crash resumes exactly where it stopped.
 *
 * Never changes the logical compact revision (the write path does that) and never touches
 * anything above C.
 */
import type { MvccTables } from './tables.js';
import { META } from './tables.js';
import { KEY_ID_OFFSET, VERSION_FLAG_TOMBSTONE, decodeGrave, versionKey, versionPrevRevision } from './record-codec.js';
import { encodeRevision, REVISION_BYTES, asBuffer } from './revision.js';
import { HISTORY_KEY_BYTES, KEY_ID_BYTES, keyIdPrefix } from './read-view.js';

export interface ChunkResult {
  /** `revs` entries examined in this chunk. */
  examined: number;
  /** True when every entry up to the target has been processed. */
  done: boolean;
}

interface RevEntry {
  revKey: Buffer;
  keyId: Buffer;
  tombstone: boolean;
  key: Buffer;
  prevRevKey: Buffer | undefined;
}

function readEntry(t: MvccTables, revKey: Buffer): RevEntry {
  // getBinaryFast: header and key only are copied, never a (possibly 1.5 MiB) value.
  const fast = t.revs.getBinaryFast(revKey);
  if (fast === undefined) throw new Error('mvcc: revision key vanished during compaction');
  const key = Buffer.from(versionKey(fast));
  const keyId = Buffer.from(fast.subarray(KEY_ID_OFFSET, KEY_ID_OFFSET + KEY_ID_BYTES));
  return { revKey, keyId, tombstone: (fast[0] & VERSION_FLAG_TOMBSTONE) !== 0, key, prevRevKey: versionPrevRevision(fast) };
}

function historyKeyOf(keyId: Buffer, revKey: Buffer): Buffer {
  return Buffer.concat([keyId, revKey], HISTORY_KEY_BYTES);
}

function hasHistory(t: MvccTables, keyId: Buffer): boolean {
  const end = keyIdPrefix(keyId.readBigUInt64BE(0) + 1n);
  for (const _ of t.history.getKeys({ start: keyId, end, limit: 1 })) return true;
  return false;
}

function compactEntry(t: MvccTables, e: RevEntry): void {
  // The previous change may be gone already (a tombstone removes itself); removing is then a no-op.
  if (e.prevRevKey !== undefined) {
    t.history.remove(historyKeyOf(e.keyId, e.prevRevKey));
    t.revs.remove(e.prevRevKey);
  }
  if (!e.tombstone) return;
  t.history.remove(historyKeyOf(e.keyId, e.revKey));
  t.revs.remove(e.revKey);
  if (hasHistory(t, e.keyId)) return;
  const grave = t.graveyard.get(e.key);
  if (grave !== undefined && decodeGrave(grave).keyId === e.keyId.readBigUInt64BE(0)) t.graveyard.remove(e.key);
}

/** One chunk: call inside a write transaction. */
export function compactChunk(t: MvccTables, targetRevision: bigint, maxEntries: number): ChunkResult {
  const progress = t.meta.get(META.compactProgress);
  if (progress !== undefined && progress.length !== REVISION_BYTES) throw new Error('mvcc: corrupt compaction progress');
  const end = encodeRevision(targetRevision + 1n, 0);
  const revKeys: Buffer[] = [];
  const range = progress === undefined
    ? t.revs.getKeys({ end, limit: maxEntries })
    : t.revs.getKeys({ start: progress, exclusiveStart: true, end, limit: maxEntries });
  for (const k of range) revKeys.push(Buffer.from(asBuffer(k as Buffer)));
  for (const revKey of revKeys) compactEntry(t, readEntry(t, revKey));
  if (revKeys.length > 0) t.meta.put(META.compactProgress, revKeys[revKeys.length - 1]);
  return { examined: revKeys.length, done: revKeys.length < maxEntries };
}
