/**
 * Txn compares, as etcd 3.4 evaluates them: read the compare's key or range at the current
 * revision; with no key there, VALUE compares fail and the others compare against a zero
 * KeyValue (version 0, create 0, mod 0, lease 0); with keys there, the compare must hold for
 * every one of them. A missing `value`/`number` compares as empty bytes / 0.
 *
 * Never writes; reads through read-view.ts in the current LMDB transaction.
 */
import type { Compare, KeyValue } from './types.js';
import type { MvccTables } from './tables.js';
import { readKeys } from './read-view.js';
import { spanOf } from './key-span.js';
import { EMPTY } from './record-codec.js';

const ZERO_KV: KeyValue = { key: EMPTY, createRevision: 0n, modRevision: 0n, version: 0n, value: EMPTY, lease: 0n };

function sign(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareOne(c: Compare, kv: KeyValue): boolean {
  let diff: number;
  const n = c.number ?? 0n;
  switch (c.target) {
    case 'VALUE': diff = Buffer.compare(kv.value, c.value ?? EMPTY); break;
    case 'VERSION': diff = sign(kv.version, n); break;
    case 'CREATE': diff = sign(kv.createRevision, n); break;
    case 'MOD': diff = sign(kv.modRevision, n); break;
    case 'LEASE': diff = sign(kv.lease, n); break;
  }
  switch (c.result) {
    case 'EQUAL': return diff === 0;
    case 'NOT_EQUAL': return diff !== 0;
    case 'GREATER': return diff > 0;
    case 'LESS': return diff < 0;
  }
}

export function compareHolds(t: MvccTables, c: Compare): boolean {
  const keysOnly = c.target !== 'VALUE';
  const { kvs } = readKeys(t, spanOf(c.key, c.rangeEnd), { limit: 0, countOnly: false, keysOnly });
  if (kvs.length === 0) return c.target === 'VALUE' ? false : compareOne(c, ZERO_KV);
  for (const kv of kvs) if (!compareOne(c, kv)) return false;
  return true;
}

export function comparesHold(t: MvccTables, compares: Compare[]): boolean {
  for (const c of compares) if (!compareHolds(t, c)) return false;
  return true;
}
