/**
 * Watchers indexed by what they watch, so that finding the watchers of a key costs one map
 * lookup plus an O(log n) descent, whatever the number of watchers on other keys: single keys in
 * a hash map, ranges (prefixes, [key, end), from-key) in an interval treap augmented with the
 * largest end of each subtree.
 *
 * Owns only the index. Must never hold a watcher twice, and never compare keys as strings of
 * text: keys are bytes, ordered as etcd orders them (unsigned, lexicographic).
 */

/** A watched span: one key (`end` undefined), [start, end), or every key >= start (`end` null). */
export interface KeySpan {
  start: Uint8Array;
  end?: Uint8Array | null;
}

const EMPTY = new Uint8Array(0);

/** etcd's range rules: no range_end is one key; range_end "\0" is every key >= key. */
export function spanOf(key: Uint8Array, rangeEnd?: Uint8Array): KeySpan {
  if (!rangeEnd || rangeEnd.length === 0) return { start: key };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start: key, end: null };
  return { start: key, end: rangeEnd };
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

export function spanContains(span: KeySpan, key: Uint8Array): boolean {
  if (span.end === undefined) return compareBytes(span.start, key) === 0;
  if (compareBytes(key, span.start) < 0) return false;
  return span.end === null || compareBytes(key, span.end) < 0;
}

/** null (unbounded) is greater than any key. */
function maxEnd(a: Uint8Array | null, b: Uint8Array | null): Uint8Array | null {
  if (a === null || b === null) return null;
  return compareBytes(a, b) >= 0 ? a : b;
}

function endAbove(end: Uint8Array | null, key: Uint8Array): boolean {
  return end === null || compareBytes(end, key) > 0;
}

interface Node<W> {
  start: Uint8Array;
  end: Uint8Array | null;
  seq: number;
  item: W;
  priority: number;
  left: Node<W> | null;
  right: Node<W> | null;
  max: Uint8Array | null;
}

function order<W>(a: { start: Uint8Array; seq: number }, b: Node<W>): number {
  return compareBytes(a.start, b.start) || a.seq - b.seq;
}

function update<W>(n: Node<W>): Node<W> {
  let m: Uint8Array | null = n.end;
  if (n.left) m = maxEnd(m, n.left.max);
  if (n.right) m = maxEnd(m, n.right.max);
  n.max = m;
  return n;
}

function rotateRight<W>(n: Node<W>): Node<W> {
  const l = n.left!;
  n.left = l.right;
  l.right = update(n);
  return update(l);
}

function rotateLeft<W>(n: Node<W>): Node<W> {
  const r = n.right!;
  n.right = r.left;
  r.left = update(n);
  return update(r);
}

function insert<W>(root: Node<W> | null, node: Node<W>): Node<W> {
  if (!root) return node;
  if (order(node, root) < 0) {
    root.left = insert(root.left, node);
    if (root.left.priority > root.priority) return rotateRight(root);
  } else {
    root.right = insert(root.right, node);
    if (root.right.priority > root.priority) return rotateLeft(root);
  }
  return update(root);
}

function remove<W>(root: Node<W> | null, key: { start: Uint8Array; seq: number }): Node<W> | null {
  if (!root) return null;
  const c = order(key, root);
  if (c < 0) root.left = remove(root.left, key);
  else if (c > 0) root.right = remove(root.right, key);
  else return removeRoot(root);
  return update(root);
}

function removeRoot<W>(n: Node<W>): Node<W> | null {
  if (!n.left) return n.right;
  if (!n.right) return n.left;
  if (n.left.priority > n.right.priority) {
    const r = rotateRight(n);
    r.right = removeRoot(n);
    return update(r);
  }
  const r = rotateLeft(n);
  r.left = removeRoot(n);
  return update(r);
}

/** Visits every node whose [start, end) holds key. */
function stab<W>(n: Node<W> | null, key: Uint8Array, visit: (item: W) => void): void {
  while (n) {
    if (!endAbove(n.max, key)) return;
    if (n.left) stab(n.left, key, visit);
    if (compareBytes(n.start, key) > 0) return; // this node and everything right start after key
    if (endAbove(n.end, key)) visit(n.item);
    n = n.right;
  }
}

export class KeyIndex<W> {
  private readonly exact = new Map<string, Set<W>>();
  private root: Node<W> | null = null;
  private readonly ranges = new Map<W, { start: Uint8Array; seq: number }>();
  private seq = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(item: W, span: KeySpan): void {
    this.count++;
    if (span.end === undefined) {
      const k = latin1(span.start);
      let set = this.exact.get(k);
      if (!set) this.exact.set(k, (set = new Set()));
      set.add(item);
      return;
    }
    const end = span.end;
    // An empty range [a, b) with b <= a holds no key: index it nowhere, but count it.
    if (end !== null && compareBytes(end, span.start) <= 0) {
      this.ranges.set(item, { start: EMPTY, seq: -1 });
      return;
    }
    const seq = ++this.seq;
    this.ranges.set(item, { start: span.start, seq });
    this.root = insert(this.root, {
      start: span.start, end, seq, item, priority: Math.random(), left: null, right: null, max: end,
    });
  }

  remove(item: W, span: KeySpan): void {
    if (span.end === undefined) {
      const k = latin1(span.start);
      const set = this.exact.get(k);
      if (!set || !set.delete(item)) return;
      if (set.size === 0) this.exact.delete(k);
      this.count--;
      return;
    }
    const at = this.ranges.get(item);
    if (!at) return;
    this.ranges.delete(item);
    this.count--;
    if (at.seq >= 0) this.root = remove(this.root, at);
  }

  /** Calls visit once for each item whose span holds key. */
  forEachMatch(key: Uint8Array, visit: (item: W) => void): void {
    const set = this.exact.get(latin1(key));
    if (set) for (const w of set) visit(w);
    if (this.root) stab(this.root, key, visit);
  }
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
