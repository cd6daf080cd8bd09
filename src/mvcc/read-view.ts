/**
 * Reads of the key space at the current revision or at a past one, straight from the on-disk
 * layout (no in-memory index). Runs in whatever LMDB transaction is current: inside applyBatch
 * that is the write transaction, so reads there see the batch's earlier writes.
 *
 * Current reads: `latest` only (a single key is one get). Past reads at revision R: walk the
 * keys of the span in `latest` and `graveyard` in key order; a key not modified after R is
 * answered from its own record, any other key with one reverse seek in `history` (its newest
 * version <= R) and one get in `revs`.
 *
 * Never writes; never checks revisions against the compaction point (callers do).
 */
import type { Bytes, KeyValue } from './types.js';
import type { MvccTables } from './tables.js';
import { decodeGrave, decodeLatest, decodeVersion, latestKeyId, latestModMain } from './record-codec.js';
import { compareBytes, spanEnd, spanIsEmpty, type KeySpan } from './key-span.js';
import { encodeRevision, MAX_SUB_REVISION, REVISION_BYTES, decodeRevisionMain } from './revision.js';

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

export const KEY_ID_BYTES = 8;
export const HISTORY_KEY_BYTES = KEY_ID_BYTES + REVISION_BYTES;

export function historyKey(keyId: bigint, main: bigint, sub: number): Buffer {
  const buf = Buffer.allocUnsafe(HISTORY_KEY_BYTES);
  buf.writeBigUInt64BE(keyId, 0);
  encodeRevision(main, sub, buf, KEY_ID_BYTES);
  return buf;
}

export function keyIdPrefix(keyId: bigint): Buffer {
  const buf = Buffer.allocUnsafe(KEY_ID_BYTES);
  buf.writeBigUInt64BE(keyId, 0);
  return buf;
}

/** The `revs` key of the newest version of `keyId` at or below `main` (any sub), if any. */
export function newestRevisionAtOrBelow(t: MvccTables, keyId: bigint, main: bigint): Buffer | undefined {
  const start = historyKey(keyId, main, MAX_SUB_REVISION);
  for (const hk of t.history.getKeys({ start, end: keyIdPrefix(keyId), reverse: true, limit: 1 })) {
    return (hk as Buffer).subarray(KEY_ID_BYTES);
  }
  return undefined;
}

function versionFromHistory(t: MvccTables, keyId: bigint, rev: bigint, keysOnly: boolean): KeyValue | undefined {
  const revKey = newestRevisionAtOrBelow(t, keyId, rev);
  if (revKey === undefined) return undefined;
  const record = t.revs.get(revKey);
  if (record === undefined) throw new Error('mvcc: history entry without its revision record');
  return decodeVersion(record, decodeRevisionMain(revKey), keysOnly);
}

/** The state at `rev` of a key whose current record is `record` (live) or `grave` (deleted). */
function versionAt(t: MvccTables, key: Bytes, rev: bigint, keysOnly: boolean, record?: Buffer, grave?: Buffer): KeyValue | undefined {
  if (record !== undefined) {
    if (latestModMain(record) <= rev) return decodeLatest(key, record, keysOnly);
    return versionFromHistory(t, latestKeyId(record), rev, keysOnly);
  }
  if (grave === undefined) return undefined;
  const g = decodeGrave(grave);
  if (g.tombMain <= rev) return undefined;
  return versionFromHistory(t, g.keyId, rev, keysOnly);
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
    const kv = takeLive
      ? versionAt(t, key, rev, opts.keysOnly || !wantValue, entry.value)
      : versionAt(t, key, rev, opts.keysOnly || !wantValue, undefined, entry.value);
    if (kv !== undefined) {
      count++;
      if (wantValue) kvs.push(kv);
    }
    if (takeLive) a = live.next();
    else b = dead.next();
  }
  return { kvs, count };
}
