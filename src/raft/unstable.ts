/**
 * The not-yet-persisted tail of the log: entries (and possibly an incoming snapshot) that the
 * core has accepted but the host has not yet written to stable storage.
 *
 * Owns: the unstable entries array and the pending snapshot. Must never: hand its live array
 * to the host (callers get copies) — it keeps appending to it.
 *
 * Invariant: entries[i].index === offset + i; with a snapshot, offset === snapshot index + 1.
 */
import type { Entry, Snapshot } from './types.js';

/** Returned by the maybe* lookups when the unstable part cannot answer. */
export const NOT_FOUND = -1;

export class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** First index if a snapshot is pending (the log restarts after it), else NOT_FOUND. */
  maybeFirstIndex(): number {
    return this.snapshot === null ? NOT_FOUND : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    if (this.snapshot !== null) return this.snapshot.metadata.index;
    return NOT_FOUND;
  }

  maybeTerm(i: number): number {
    if (i < this.offset) {
      if (this.snapshot !== null && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return NOT_FOUND;
    }
    const k = i - this.offset;
    return k < this.entries.length ? this.entries[k].term : NOT_FOUND;
  }

  /** The host persisted entries up to (i, t): drop them. A term mismatch means the entry at i
   * was replaced after the Ready was taken; then it is not stable yet and stays. */
  stableTo(i: number, t: number): void {
    if (i < this.offset) return;
    const k = i - this.offset;
    if (k >= this.entries.length || this.entries[k].term !== t) return;
    this.entries = k === this.entries.length - 1 ? [] : this.entries.slice(k + 1);
    this.offset = i + 1;
  }

  stableSnapTo(i: number): void {
    if (this.snapshot !== null && this.snapshot.metadata.index === i) this.snapshot = null;
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.entries = [];
    this.snapshot = s;
  }

  /** Appends `ents` (consecutive), first truncating any tail at or after ents[0].index. */
  truncateAndAppend(ents: readonly Entry[]): void {
    const from = ents[0].index;
    const end = this.offset + this.entries.length;
    if (from === end) {
      for (let i = 0; i < ents.length; i++) this.entries.push(ents[i]);
      return;
    }
    if (from <= this.offset) {
      // Replaces everything unstable; entries already in storage after `from` are overwritten
      // when the host appends these (storage append truncates).
      this.offset = from;
      this.entries = ents.slice();
      return;
    }
    this.entries = this.entries.slice(0, from - this.offset);
    for (let i = 0; i < ents.length; i++) this.entries.push(ents[i]);
  }

  /** Entries in [lo, hi); the caller checked the bounds. */
  slice(lo: number, hi: number): Entry[] {
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
