/**
 * Key permissions as etcd 3.4 has them: a role grants READ, WRITE or READWRITE on one key, on a
 * range [key, range_end), or on everything from key on (range_end "\0"). A request on a key or a
 * range is allowed when the union of the caller's granted intervals of that type covers it
 * (adjacent grants join: READ [a,c) and READ [c,e) cover [b,d)), as etcd's interval tree does.
 *
 * Pure logic on bytes: no I/O, no state. Never widens a grant: an empty range_end is exactly
 * one key.
 */

export type PermType = 'READ' | 'WRITE' | 'READWRITE';

export interface Permission {
  permType: PermType;
  key: Uint8Array;
  /** Empty: the one key; [0]: every key from `key` on; else the exclusive end. */
  rangeEnd: Uint8Array;
}

/** A half-open interval of keys; `end` null is unbounded. */
export interface KeyInterval {
  begin: Uint8Array;
  end: Uint8Array | null;
}

const ZERO = new Uint8Array([0]);

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function isAllFrom(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

/** The keys a (key, range_end) pair names, in etcd's encoding of ranges. */
export function intervalOf(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeyInterval {
  if (!rangeEnd || rangeEnd.length === 0) return { begin: key, end: Buffer.concat([key, ZERO]) };
  if (isAllFrom(rangeEnd)) return { begin: key, end: null };
  return { begin: key, end: rangeEnd };
}

export function permits(granted: PermType, wanted: 'READ' | 'WRITE'): boolean {
  return granted === 'READWRITE' || granted === wanted;
}

/** end(a) >= x, with null as +infinity. */
function endReaches(end: Uint8Array | null, x: Uint8Array | null): boolean {
  if (end === null) return true;
  if (x === null) return false;
  return compareBytes(end, x) >= 0;
}

/**
 * The union of intervals as sorted, disjoint, non-adjacent intervals (adjacent and overlapping
 * ones joined; empty ones dropped).
 */
export function mergeIntervals(granted: readonly KeyInterval[]): KeyInterval[] {
  const sorted = granted.filter((g) => g.end === null || compareBytes(g.begin, g.end) < 0)
    .sort((a, b) => compareBytes(a.begin, b.begin));
  const out: KeyInterval[] = [];
  for (const g of sorted) {
    const last = out[out.length - 1];
    if (last && (last.end === null || compareBytes(g.begin, last.end) <= 0)) {
      if (!endReaches(last.end, g.end)) last.end = g.end;
    } else {
      out.push({ begin: g.begin, end: g.end });
    }
  }
  return out;
}

/**
 * True when merged intervals (mergeIntervals) cover `wanted`: the one interval that holds its
 * begin must reach its end (an inverted request range is covered when its begin is, as etcd
 * answers). Binary search: a check costs O(log n) whatever the number of grants.
 */
export function coversMerged(merged: readonly KeyInterval[], wanted: KeyInterval): boolean {
  let lo = 0;
  let hi = merged.length - 1;
  let at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (compareBytes(merged[mid].begin, wanted.begin) <= 0) {
      at = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (at < 0) return false;
  const g = merged[at];
  if (g.end !== null && compareBytes(g.end, wanted.begin) <= 0) return false;
  if (wanted.end !== null && compareBytes(wanted.end, wanted.begin) <= 0) return true;
  return endReaches(g.end, wanted.end);
}

/** True when the union of `granted` covers `wanted`. */
export function covers(granted: readonly KeyInterval[], wanted: KeyInterval): boolean {
  return coversMerged(mergeIntervals(granted), wanted);
}

/** One user's permissions, merged once per type (the auth store caches it per auth revision). */
export class PermissionSet {
  private readonly read: KeyInterval[];
  private readonly write: KeyInterval[];

  constructor(perms: readonly Permission[]) {
    this.read = mergeIntervals(perms.filter((p) => permits(p.permType, 'READ')).map((p) => intervalOf(p.key, p.rangeEnd)));
    this.write = mergeIntervals(perms.filter((p) => permits(p.permType, 'WRITE')).map((p) => intervalOf(p.key, p.rangeEnd)));
  }

  allows(wanted: 'READ' | 'WRITE', key: Uint8Array, rangeEnd?: Uint8Array): boolean {
    return coversMerged(wanted === 'READ' ? this.read : this.write, intervalOf(key, rangeEnd));
  }
}

/** True when the permissions grant `wanted` access on every key of (key, range_end). */
export function isPermitted(perms: readonly Permission[], wanted: 'READ' | 'WRITE', key: Uint8Array, rangeEnd?: Uint8Array): boolean {
  return new PermissionSet(perms).allows(wanted, key, rangeEnd);
}

/** Orders a role's permissions as etcd keeps them: by key. */
export function sortPermissions(perms: Permission[]): Permission[] {
  return perms.sort((a, b) => compareBytes(a.key, b.key));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a, b) === 0;
}
