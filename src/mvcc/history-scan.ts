/**
 * Scans of history in revision order: the events after a revision (watch catch-up) and the
 * hash of the key space up to a revision (etcd's HashKV, for corruption checks between members).
 *
 * Both answer from the logical state, whatever physical compaction has or has not removed yet:
 * a version at or below the compact revision counts only if compaction keeps it. Never writes.
 */
import { CairnError } from '../errors/errors.js';
import type { Event, KeyValue } from './types.js';
import type { MvccTables } from './tables.js';
import { EMPTY, VERSION_FLAG_TOMBSTONE, decodeVersion, versionKeyId, versionIsTombstone, versionKey, KEY_ID_OFFSET } from './record-codec.js';
import { decodeRevisionMain, encodeRevision } from './revision.js';
import { historyKey, keyIdPrefix, newestRevisionAtOrBelow } from './read-view.js';
import { crc32cUpdate } from './crc32c.js';

export interface EventsPage {
  events: Event[];
  /** The revision to ask for next. */
  nextRevision: bigint;
}

function prevKvOf(t: MvccTables, keyId: bigint, main: bigint, compactRevision: bigint): KeyValue | undefined {
  // As etcd: the previous state is the key at main - 1, unreadable below the compaction point.
  if (main - 1n < compactRevision || main <= 1n) return undefined;
  const revKey = newestRevisionAtOrBelow(t, keyId, main - 1n);
  if (revKey === undefined) return undefined;
  const record = t.revs.get(revKey);
  return record === undefined ? undefined : decodeVersion(record, decodeRevisionMain(revKey));
}

function eventOf(t: MvccTables, revKey: Buffer, record: Buffer, compactRevision: bigint): Event {
  const main = decodeRevisionMain(revKey);
  const prevKv = prevKvOf(t, versionKeyId(record), main, compactRevision);
  const kv = decodeVersion(record, main);
  const event: Event = kv !== undefined
    ? { type: 'PUT', kv }
    : { type: 'DELETE', kv: { key: versionKey(record), createRevision: 0n, modRevision: main, version: 0n, value: EMPTY, lease: 0n } };
  if (prevKv !== undefined) event.prevKv = prevKv;
  return event;
}

/**
 * Events with revision >= fromRevision, in order, at most `maxEvents` except that the events of
 * one revision are never split (a page ends at a revision boundary).
 */
export function eventsSince(t: MvccTables, fromRevision: bigint, maxEvents: number, currentRevision: bigint, compactRevision: bigint): EventsPage {
  if (fromRevision < compactRevision) throw new CairnError('Compacted');
  const start = encodeRevision(fromRevision < 1n ? 1n : fromRevision, 0);
  const end = encodeRevision(currentRevision + 1n, 0);
  const events: Event[] = [];
  let lastMain = -1n;
  for (const { key, value } of t.revs.getRange({ start, end })) {
    const revKey = key as Buffer;
    const main = decodeRevisionMain(revKey);
    if (events.length >= maxEvents && main !== lastMain) return { events, nextRevision: main };
    // A tombstone at the compaction point is gone or going: never report it.
    if (main <= compactRevision && versionIsTombstone(value)) continue;
    events.push(eventOf(t, revKey, value, compactRevision));
    lastMain = main;
  }
  return { events, nextRevision: currentRevision + 1n };
}

/** True when compaction at `compactRevision` keeps the version at `revKey` (main <= compactRevision). */
function keptByCompaction(t: MvccTables, keyId: bigint, revKey: Buffer, tombstone: boolean, compactRevision: bigint): boolean {
  if (tombstone) return false;
  const start = Buffer.concat([keyIdPrefix(keyId), revKey]);
  const end = historyKey(keyId, compactRevision + 1n, 0);
  for (const _ of t.history.getKeys({ start, exclusiveStart: true, end, limit: 1 })) return false;
  return true;
}

/**
 * CRC-32C over (revision, record without the member-local key id) of every version up to
 * `revision` that the compacted key space holds. The same history gives the same hash on every
 * member, whatever its physical compaction progress.
 */
export function hashUpTo(t: MvccTables, revision: bigint, compactRevision: bigint): number {
  let crc = 0;
  const end = encodeRevision(revision + 1n, 0);
  for (const k of t.revs.getKeys({ end })) {
    const revKey = k as Buffer;
    const fast = t.revs.getBinaryFast(revKey);
    if (fast === undefined) continue;
    if (decodeRevisionMain(revKey) <= compactRevision) {
      const tombstone = (fast[0] & VERSION_FLAG_TOMBSTONE) !== 0;
      const keyId = fast.readBigUInt64BE(KEY_ID_OFFSET);
      // keptByCompaction reads LMDB, which reuses the fast buffer: re-fetch afterwards.
      if (!keptByCompaction(t, keyId, revKey, tombstone, compactRevision)) continue;
    }
    const record = t.revs.getBinaryFast(revKey) as Buffer;
    crc = crc32cUpdate(crc, revKey);
    crc = crc32cUpdate(crc, record.subarray(0, 1));
    crc = crc32cUpdate(crc, record.subarray(KEY_ID_OFFSET + 8));
  }
  return crc;
}
