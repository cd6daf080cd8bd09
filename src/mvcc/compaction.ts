/**
 * Physical compaction: removes history below the compaction revision C in short chunks, each
 * its own LMDB write transaction, so writes are never blocked for long.
 *
 * Rule (as etcd): for every key keep the newest version at or below C unless it is a tombstone;
 * remove everything older. Walking `revs` in order from where the previous pass stopped up to
 * C, each entry makes its predecessor (the previous change, recorded in the entry) obsolete; an
 * entry that is a tombstone is itself obsolete, and when it is still the key's last change the
 * key leaves the graveyard. Progress is stored in `meta` in the same transaction as the
 * removals, so a pass interrupted by a crash resumes exactly where it stopped.
 *
 * Never changes the logical compact revision (the write path does that) and never touches
 * anything above C.
 */
import type { MvccTables } from './tables.js';
import { META } from './tables.js';
import { VERSION_FLAG_TOMBSTONE, decodeGrave, versionKey, versionPrevKey } from './record-codec.js';
import { encodeRevision, REVISION_BYTES, asBuffer, decodeRevisionMain, decodeRevisionSub } from './revision.js';

export interface ChunkResult {
  /** `revs` entries examined in this chunk. */
  examined: number;
  /** True when every entry up to the target has been processed. */
  done: boolean;
}

interface RevEntry {
  revKey: Buffer;
  tombstone: boolean;
  key: Buffer;
  prevRevKey: Buffer | undefined;
}

function readEntry(t: MvccTables, revKey: Buffer): RevEntry {
  // getBinaryFast: header and key only are copied, never a (possibly 1.5 MiB) value.
  const fast = t.revs.getBinaryFast(revKey);
  if (fast === undefined) throw new Error('mvcc: revision key vanished during compaction');
  const tombstone = (fast[0] & VERSION_FLAG_TOMBSTONE) !== 0;
  return { revKey, tombstone, key: Buffer.from(versionKey(fast)), prevRevKey: versionPrevKey(fast) };
}

function compactEntry(t: MvccTables, e: RevEntry): void {
  // The previous change may be gone already (a tombstone removes itself); removing is then a no-op.
  if (e.prevRevKey !== undefined) t.revs.remove(e.prevRevKey);
  if (!e.tombstone) return;
  t.revs.remove(e.revKey);
  const grave = t.graveyard.get(e.key);
  if (grave === undefined) return;
  const { tomb } = decodeGrave(grave);
  if (tomb.main === decodeRevisionMain(e.revKey) && tomb.sub === decodeRevisionSub(e.revKey)) t.graveyard.remove(e.key);
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
