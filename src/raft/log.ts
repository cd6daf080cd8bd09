/**
 * The Raft log as the core sees it: stable storage followed by the unstable tail, plus the
 * commit and applied indexes.
 *
 * Owns: log lookups across storage and unstable, appending with conflict detection, commit and
 * applied bookkeeping. Must never: write to storage (only the host does), move `committed`
 * backwards, or truncate an entry at or below `committed` (that would lose a committed entry).
 */
import { RaftError, isRaftError } from './errors.js';
import { limitSize, type Storage } from './storage.js';
import { NOT_FOUND, Unstable } from './unstable.js';
import type { Entry, Snapshot } from './types.js';

/** term() results that are not terms. */
export const TERM_COMPACTED = -1;
export const TERM_UNAVAILABLE = -2;

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** Highest index known to be stored on a quorum. */
  committed: number;
  /** Highest index the host has applied (acknowledged through advance()). */
  applied: number;
  /** Bound on the bytes of committed entries handed out in one Ready. */
  readonly maxCommittedBytesPerReady: number;

  constructor(storage: Storage, maxCommittedBytesPerReady: number) {
    this.storage = storage;
    this.maxCommittedBytesPerReady = maxCommittedBytesPerReady;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    const i = this.unstable.maybeFirstIndex();
    return i !== NOT_FOUND ? i : this.storage.firstIndex();
  }

  lastIndex(): number {
    const i = this.unstable.maybeLastIndex();
    return i !== NOT_FOUND ? i : this.storage.lastIndex();
  }

  /** The term at index i, TERM_COMPACTED below the first index - 1, or TERM_UNAVAILABLE past
   * the last index. */
  term(i: number): number {
    const t = this.unstable.maybeTerm(i);
    if (t !== NOT_FOUND) return t;
    if (i < this.firstIndex() - 1) return TERM_COMPACTED;
    if (i > this.lastIndex()) return TERM_UNAVAILABLE;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (isRaftError(e, 'Compacted')) return TERM_COMPACTED;
      if (isRaftError(e, 'Unavailable')) return TERM_UNAVAILABLE;
      throw e;
    }
  }

  /** Term at i, or 0 when unknown: the comparisons that use it then fail safely. */
  termOrZero(i: number): number {
    const t = this.term(i);
    return t < 0 ? 0 : t;
  }

  lastTerm(): number {
    return this.termOrZero(this.lastIndex());
  }

  matchTerm(i: number, t: number): boolean {
    return this.term(i) === t;
  }

  /** Raft's up-to-date rule for votes: a later last term wins, then a longer log. */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Follower side of MsgApp: if our log matches (index, logTerm), append what is new and
   * advance the commit. Returns the last index now known to match the leader, or -1. */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number {
    if (!this.matchTerm(index, logTerm)) return -1;
    const lastNewIndex = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new RaftError('InvalidArgument', `entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      }
      this.append(ents.slice(conflict - (index + 1)));
    }
    // Only up to lastNewIndex: entries beyond it may be stale leftovers of an older leader.
    this.commitTo(Math.min(committed, lastNewIndex));
    return lastNewIndex;
  }

  /** Appends entries to the unstable tail; returns the new last index. */
  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0].index - 1;
    if (after < this.committed) {
      throw new RaftError('InvalidArgument', `append after ${after} is below committed ${this.committed}`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** The first entry in `ents` whose term differs from ours (or that we lack), or 0. */
  findConflict(ents: readonly Entry[]): number {
    for (let i = 0; i < ents.length; i++) {
      if (!this.matchTerm(ents[i].index, ents[i].term)) return ents[i].index;
    }
    return 0;
  }

  /** The largest index ≤ `index` whose term is ≤ `term`, and that term: where a leader whose
   * log has `term` at `index` may find its match with us (fast back-off). */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i > 0; i--) {
      const t = this.term(i);
      if (t < 0) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  commitTo(toCommit: number): void {
    if (toCommit <= this.committed) return;
    if (toCommit > this.lastIndex()) {
      throw new RaftError('InvalidArgument', `commit ${toCommit} is past last index ${this.lastIndex()}`);
    }
    this.committed = toCommit;
  }

  /** Leader commit rule: only an entry of the current term is committed by counting replicas
   * (Raft §5.4.2, the Figure 8 case); earlier entries are committed with it. */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    if (i > this.committed || i < this.applied) {
      throw new RaftError('InvalidArgument', `applied ${i} out of range [${this.applied}, ${this.committed}]`);
    }
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  /** Highest index whose entry is durable and belongs to this log (the leader's own ack). */
  persistedIndex(): number {
    if (this.unstable.snapshot !== null) return 0;
    return this.unstable.offset - 1;
  }

  hasUnstable(): boolean {
    return this.unstable.entries.length > 0;
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== null;
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  nextCommittedEntries(): readonly Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    if (lo > this.committed) return [];
    return this.slice(lo, this.committed + 1, this.maxCommittedBytesPerReady);
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Entries from i to the end, cut to maxBytes. Throws RaftError('Compacted') when i is gone. */
  entriesFrom(i: number, maxBytes: number): readonly Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxBytes);
  }

  /** Entries in [lo, hi) across storage and unstable, cut to maxBytes (at least one). */
  slice(lo: number, hi: number, maxBytes: number): readonly Entry[] {
    if (lo < this.firstIndex()) throw new RaftError('Compacted');
    if (hi > this.lastIndex() + 1) throw new RaftError('Unavailable', `slice [${lo},${hi}) past ${this.lastIndex()}`);
    if (lo >= hi) return [];
    const uOffset = this.unstable.offset;
    if (lo >= uOffset) return limitSize(this.unstable.slice(lo, hi), maxBytes);
    const stored = this.storage.entries(lo, Math.min(hi, uOffset), maxBytes);
    if (hi <= uOffset || stored.length < Math.min(hi, uOffset) - lo) return stored;
    return limitSize(stored.concat(this.unstable.slice(uOffset, hi)), maxBytes);
  }

  /** Replaces the log with a snapshot (follower far behind). */
  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }
}
