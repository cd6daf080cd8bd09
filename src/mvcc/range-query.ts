/**
 * A RangeRequest as etcd 3.4's applier runs it: revision checks, the limit (one extra key to
 * learn `more`), min/max mod/create filters, sorting, truncation, keys_only and count_only.
 * `count` is the number of keys in the range at that revision, before limit and filters.
 *
 * Owns only this post-processing; the reading itself is read-view.ts. Never writes.
 */
import { CairnError } from '../errors/errors.js';
import type { KeyValue, RangeRequest, RangeResult, SortTarget } from './types.js';
import type { MvccTables } from './tables.js';
import { readKeys } from './read-view.js';
import { spanOf } from './key-span.js';
import { EMPTY } from './record-codec.js';

export interface RevisionBounds {
  /** The revision reads see now (inside a txn with writes: the txn's own revision). */
  currentRevision: bigint;
  compactRevision: bigint;
}

/** FutureRev above the current revision, Compacted below the compaction point (equal is allowed). */
export function checkReadRevision(revision: bigint, bounds: RevisionBounds): void {
  if (revision > bounds.currentRevision) throw new CairnError('FutureRev');
  if (revision > 0n && revision < bounds.compactRevision) throw new CairnError('Compacted');
}

function hasFilters(req: RangeRequest): boolean {
  return (req.minModRevision ?? 0n) !== 0n || (req.maxModRevision ?? 0n) !== 0n ||
    (req.minCreateRevision ?? 0n) !== 0n || (req.maxCreateRevision ?? 0n) !== 0n;
}

function applyFilters(kvs: KeyValue[], req: RangeRequest): KeyValue[] {
  const minMod = req.minModRevision ?? 0n;
  const maxMod = req.maxModRevision ?? 0n;
  const minCreate = req.minCreateRevision ?? 0n;
  const maxCreate = req.maxCreateRevision ?? 0n;
  return kvs.filter((kv) =>
    (maxMod === 0n || kv.modRevision <= maxMod) &&
    (minMod === 0n || kv.modRevision >= minMod) &&
    (maxCreate === 0n || kv.createRevision <= maxCreate) &&
    (minCreate === 0n || kv.createRevision >= minCreate));
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortKeyOf(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case 'KEY': return (a, b) => Buffer.compare(a.key, b.key);
    case 'VERSION': return (a, b) => compareBig(a.version, b.version);
    case 'CREATE': return (a, b) => compareBig(a.createRevision, b.createRevision);
    case 'MOD': return (a, b) => compareBig(a.modRevision, b.modRevision);
    case 'VALUE': return (a, b) => Buffer.compare(a.value, b.value);
  }
}

function sortKvs(kvs: KeyValue[], req: RangeRequest): void {
  const target = req.sortTarget ?? 'KEY';
  let order = req.sortOrder ?? 'NONE';
  // Results already come in key order; etcd sorts ASCEND when another target is named.
  if (target !== 'KEY' && order === 'NONE') order = 'ASCEND';
  if (order === 'NONE') return;
  const cmp = sortKeyOf(target);
  // Stable: ties keep key order (etcd's sort is unstable, so any order of ties is etcd-valid).
  if (order === 'ASCEND') kvs.sort(cmp);
  else kvs.sort((a, b) => cmp(b, a));
}

export function executeRange(t: MvccTables, req: RangeRequest, bounds: RevisionBounds): RangeResult {
  const revision = req.revision ?? 0n;
  checkReadRevision(revision, bounds);
  const atRevision = revision > 0n && revision < bounds.currentRevision ? revision : undefined;
  const limit = Number(req.limit ?? 0n);
  // As etcd: an explicit sort order or any filter needs every key; otherwise read limit + 1.
  const readAll = (req.sortOrder ?? 'NONE') !== 'NONE' || hasFilters(req);
  const readLimit = readAll || limit <= 0 ? 0 : limit + 1;
  const span = spanOf(req.key, req.rangeEnd);
  // Sorting by value needs the values even when the reply drops them (keys_only).
  const stripValues = req.keysOnly === true && req.sortTarget === 'VALUE';
  const keysOnly = req.keysOnly === true && !stripValues;
  const read = readKeys(t, span, { atRevision, limit: readLimit, countOnly: req.countOnly === true, keysOnly });
  let kvs = hasFilters(req) ? applyFilters(read.kvs, req) : read.kvs;
  sortKvs(kvs, req);
  if (stripValues) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY }));
  let more = false;
  if (limit > 0 && kvs.length > limit) {
    kvs = kvs.slice(0, limit);
    more = true;
  }
  return { kvs, more, count: BigInt(read.count) };
}
