/**
 * What a (key, rangeEnd) pair means in etcd: absent or empty rangeEnd is the single key,
 * rangeEnd [0x00] is every key >= key, anything else is [key, rangeEnd). An empty or reversed
 * [key, rangeEnd) holds no keys. This module owns that reading and byte order; it never reads
 * storage.
 */
import type { Bytes } from './types.js';

export type KeySpan =
  | { kind: 'single'; key: Bytes }
  | { kind: 'fromKey'; key: Bytes }
  | { kind: 'range'; key: Bytes; end: Bytes };

export function spanOf(key: Bytes, rangeEnd?: Bytes): KeySpan {
  if (rangeEnd === undefined || rangeEnd.byteLength === 0) return { kind: 'single', key };
  if (rangeEnd.byteLength === 1 && rangeEnd[0] === 0) return { kind: 'fromKey', key };
  return { kind: 'range', key, end: rangeEnd };
}

export function compareBytes(a: Bytes, b: Bytes): number {
  return Buffer.compare(a, b);
}

/** True when the span can hold no key at all (etcd returns nothing for end <= key). */
export function spanIsEmpty(span: KeySpan): boolean {
  return span.kind === 'range' && compareBytes(span.end, span.key) <= 0;
}

export function spanContains(span: KeySpan, key: Bytes): boolean {
  const fromStart = compareBytes(key, span.key);
  if (span.kind === 'single') return fromStart === 0;
  if (fromStart < 0) return false;
  return span.kind === 'fromKey' || compareBytes(key, span.end) < 0;
}

/** Exclusive upper bound for an LMDB range over the span (undefined: unbounded). */
export function spanEnd(span: KeySpan): Bytes | undefined {
  return span.kind === 'range' ? span.end : undefined;
}
