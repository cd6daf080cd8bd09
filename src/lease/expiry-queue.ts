/**
 * A min-heap of (lease ID, due time in ms): the lessor's expiry and checkpoint schedules. The
 * heap never removes an entry when its lease changes; the lessor pushes a fresh entry and drops
 * stale ones when they surface (an entry is live only while it matches the lease's current due
 * time), and rebuilds the heap when stale entries outnumber live ones.
 *
 * Owns only its array. Must never decide what "expired" means: that is the lessor's.
 */

export interface DueEntry {
  readonly id: bigint;
  readonly atMs: number;
}

export class ExpiryQueue {
  private heap: DueEntry[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(id: bigint, atMs: number): void {
    const h = this.heap;
    h.push({ id, atMs });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].atMs <= h[i].atMs) break;
      [h[parent], h[i]] = [h[i], h[parent]];
      i = parent;
    }
  }

  peek(): DueEntry | undefined {
    return this.heap[0];
  }

  pop(): DueEntry | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** Replaces the whole content (used to drop stale entries in one O(n) pass). */
  rebuild(entries: DueEntry[]): void {
    this.heap = entries.slice();
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  clear(): void {
    this.heap = [];
  }

  private siftDown(start: number): void {
    const h = this.heap;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < h.length && h[l].atMs < h[min].atMs) min = l;
      if (r < h.length && h[r].atMs < h[min].atMs) min = r;
      if (min === i) return;
      [h[min], h[i]] = [h[i], h[min]];
      i = min;
    }
  }
}
