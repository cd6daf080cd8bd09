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
import { EMPTY, VERSION_FLAG_TOMBSTONE, VERSION_PREV_OFFSET, decodeVersion, versionIsTombstone, versionKey, versionPrev } from './record-codec.js';
import { decodeRevisionMain, encodeRevision, REVISION_BYTES } from './revision.js';
import { versionBefore } from './read-view.js';
import { crc32cUpdate } from './crc32c.js';

export interface EventsPage {
  events: Event[];
  /** The revision to ask for next. */
  nextRevision: bigint;
}

function prevKvOf(t: MvccTables, record: Buffer, main: bigint, compactRevision: bigint): KeyValue | undefined {
  // As etcd: the previous state is the key at main - 1, unreadable below the compaction point.
  if (main - 1n < compactRevision || main <= 1n) return undefined;
  return versionBefore(t, versionPrev(record), main - 1n, false);
}

function eventOf(t: MvccTables, revKey: Buffer, record: Buffer, compactRevision: bigint): Event {
  const main = decodeRevisionMain(revKey);
  const prevKv = prevKvOf(t, record, main, compactRevision);
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

/**
 * CRC-32C over (revision, record less its link) of every version up to `revision` that the compacted key
 * space holds, newest first. At or below the compact revision only each key's newest version
 * counts, and not if it is a tombstone, so every member with the same history gets the same
 * hash whatever its physical compaction progress. Memory: one entry per key with a version at
 * or below the compact revision (etcd's HashKV keeps the same per-key set).
 */
export function hashUpTo(t: MvccTables, revision: bigint, compactRevision: bigint): number {
  let crc = 0;
  const seenAtOrBelowCompact = new Set<string>();
  const start = encodeRevision(revision + 1n, 0);
  for (const k of t.revs.getKeys({ start, reverse: true, exclusiveStart: true })) {
    const revKey = k as Buffer;
    const record = t.revs.getBinaryFast(revKey);
    if (record === undefined) continue;
    if (decodeRevisionMain(revKey) <= compactRevision) {
      const id = versionKey(record).toString('latin1');
      if (seenAtOrBelowCompact.has(id)) continue;
      seenAtOrBelowCompact.add(id);
      if ((record[0] & VERSION_FLAG_TOMBSTONE) !== 0) continue;
    }
    crc = crc32cUpdate(crc, revKey);
    // Not the link to the previous change: whether a re-created key links to its old tombstone
    // depends on how far physical compaction had got, which differs between members.
    crc = crc32cUpdate(crc, record.subarray(0, VERSION_PREV_OFFSET));
    crc = crc32cUpdate(crc, record.subarray(VERSION_PREV_OFFSET + REVISION_BYTES));
  }
  return crc;
}
