/**
 * Reads of the key space at the current revision or at a past one, straight from the on-disk
 * layout (no in-memory index). Runs in whatever LMDB transaction is current: inside applyBatch
 * that is the write transaction, so reads there see the batch's earlier writes.
 *
 * Current reads: `latest` only (a single key is one get). Past reads at revision R: walk the
 * keys of the span in `latest` and `graveyard` in key order; a key not changed after R is
 * answered from its own record; any other key follows its chain of previous changes in `revs`
 * back to the newest change <= R (one get per change made after R).
 *
 * Never writes; never checks revisions against the compaction point (callers do).
 */
import type { Bytes, KeyValue } from './types.js';
import type { MvccTables } from './tables.js';
import {
  decodeGrave, decodeLatest, decodeVersion, latestMod, latestPrev, versionPrev, type RevisionRef,
} from './record-codec.js';
import { compareBytes, spanEnd, spanIsEmpty, type KeySpan } from './key-span.js';
import { encodeRevision } from './revision.js';

export interface KeysResult {
  kvs: KeyValue[];
  /** Keys in the span at that revision, ignoring the limit. */
  count: number;
}

export interface ReadOptions {
  /** Undefined: the current revision. */
  atRevision?: bigint;
  /** 0: no limit. */
  limit: number;
  countOnly: boolean;
  keysOnly: boolean;
}

/**
 * The key's state at `rev`, following the chain back from `prev` (a change made after `rev`
 * pointed at it). A link to a change compaction removed ends the chain: only a tombstone at or
 * below the compact revision is removed while a read at or above it could reach it, and such a
 * key did not exist at `rev`.
 */
export function versionBefore(t: MvccTables, prev: RevisionRef, rev: bigint, keysOnly: boolean): KeyValue | undefined {
  let at = prev;
  for (;;) {
    if (at.main === 0n) return undefined;
    const revKey = encodeRevision(at.main, at.sub);
    if (at.main <= rev) {
      const record = t.revs.get(revKey);
      return record === undefined ? undefined : decodeVersion(record, at.main, keysOnly);
    }
    const fast = t.revs.getBinaryFast(revKey);
    if (fast === undefined) return undefined;
    at = versionPrev(fast);
  }
}

/** The state at `rev` of a key whose current record is `record` (live) or `grave` (deleted). */
export function versionAt(t: MvccTables, key: Bytes, rev: bigint, keysOnly: boolean, record?: Buffer, grave?: Buffer): KeyValue | undefined {
  if (record !== undefined) {
    if (latestMod(record).main <= rev) return decodeLatest(key, record, keysOnly);
    return versionBefore(t, latestPrev(record), rev, keysOnly);
  }
  if (grave === undefined) return undefined;
  const g = decodeGrave(grave);
  if (g.tomb.main <= rev) return undefined;
  return versionBefore(t, g.prev, rev, keysOnly);
}

export function readKeys(t: MvccTables, span: KeySpan, opts: ReadOptions): KeysResult {
  if (spanIsEmpty(span)) return { kvs: [], count: 0 };
  if (span.kind === 'single') return readSingle(t, span.key, opts);
  return opts.atRevision === undefined ? readCurrentSpan(t, span, opts) : readPastSpan(t, span, opts.atRevision, opts);
}

function readSingle(t: MvccTables, key: Bytes, opts: ReadOptions): KeysResult {
  const record = t.latest.get(key as Buffer);
  let kv: KeyValue | undefined;
  if (opts.atRevision === undefined) {
    kv = record === undefined ? undefined : decodeLatest(key, record, opts.keysOnly);
  } else {
    const grave = record === undefined ? t.graveyard.get(key as Buffer) : undefined;
    kv = versionAt(t, key, opts.atRevision, opts.keysOnly, record, grave);
  }
  if (kv === undefined) return { kvs: [], count: 0 };
  return { kvs: opts.countOnly ? [] : [kv], count: 1 };
}

function readCurrentSpan(t: MvccTables, span: KeySpan, opts: ReadOptions): KeysResult {
  const start = span.key as Buffer;
  const end = spanEnd(span) as Buffer | undefined;
  if (opts.countOnly) return { kvs: [], count: t.latest.getKeysCount({ start, end }) };
  const kvs: KeyValue[] = [];
  const range = t.latest.getRange({ start, end, ...(opts.limit > 0 ? { limit: opts.limit } : {}) });
  for (const { key, value } of range) kvs.push(decodeLatest(key as Buffer, value, opts.keysOnly));
  const count = opts.limit > 0 && kvs.length === opts.limit ? t.latest.getKeysCount({ start, end }) : kvs.length;
  return { kvs, count };
}

function readPastSpan(t: MvccTables, span: KeySpan, rev: bigint, opts: ReadOptions): KeysResult {
  const start = span.key as Buffer;
  const end = spanEnd(span) as Buffer | undefined;
  const live = t.latest.getRange({ start, end })[Symbol.iterator]();
  const dead = t.graveyard.getRange({ start, end })[Symbol.iterator]();
  let a = live.next();
  let b = dead.next();
  const kvs: KeyValue[] = [];
  let count = 0;
  while (!a.done || !b.done) {
    const takeLive = b.done || (!a.done && compareBytes(a.value.key as Buffer, b.value.key as Buffer) < 0);
    const entry = takeLive ? a.value : b.value;
    const key = entry.key as Buffer;
    const wantValue = !opts.countOnly && (opts.limit === 0 || kvs.length < opts.limit);
    const keysOnly = opts.keysOnly || !wantValue;
    const kv = takeLive ? versionAt(t, key, rev, keysOnly, entry.value) : versionAt(t, key, rev, keysOnly, undefined, entry.value);
    if (kv !== undefined) {
      count++;
      if (wantValue) kvs.push(kv);
    }
    if (takeLive) a = live.next();
    else b = dead.next();
  }
  return { kvs, count };
}
