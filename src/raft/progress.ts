/**
 * The leader's view of each member: how far its log matches (Progress), and the configuration
 * with quorum arithmetic (ProgressTracker).
 *
 * Owns: per-follower replication state (probe / replicate / snapshot), vote tallies, the
 * quorum commit index, the voter and learner sets. Must never: send messages or read the log —
 * the core decides what to send from the state kept here.
 *
 * Replication states: `probe` sends one append at a time and waits (used after a rejection or
 * when the follower's position is unknown); `replicate` streams appends optimistically within
 * the in-flight window; `snapshot` sends nothing until the host reports the snapshot's fate.
 */
import { Inflights } from './inflights.js';
import type { ConfState, NodeId } from './types.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** In probe state: an append is outstanding, wait for an answer or a heartbeat response. */
  msgAppFlowPaused = false;
  isLearner: boolean;
  readonly inflights: Inflights;

  constructor(next: number, isLearner: boolean, inflights: Inflights) {
    this.next = next;
    this.isLearner = isLearner;
    this.inflights = inflights;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot the follower has at least the snapshot: probe right after it.
    const after = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.resetState('probe');
    this.next = after;
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** Bookkeeping after sending an append of `count` entries ending at `lastIndex`. */
  sentEntries(count: number, bytes: number, lastIndex: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === 'probe') {
      this.msgAppFlowPaused = true;
    }
  }

  /** An acknowledgement up to n. Returns whether it told us anything new. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    if (this.next < n + 1) this.next = n + 1;
    return updated;
  }

  /**
   * A rejection of the append whose previous index was `rejected`; `matchHint` is where the
   * follower (and our log) suggest to probe. Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      // Everything up to match is known good; a rejection at or below it is out of date.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe state only the answer to the last probe counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe': return this.msgAppFlowPaused;
      case 'replicate': return this.inflights.full();
      case 'snapshot': return true;
    }
  }
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** Configuration and per-member progress. One membership change at a time, so one majority. */
export class ProgressTracker {
  readonly progress = new Map<NodeId, Progress>();
  private voterIds: NodeId[] = [];
  private readonly votes = new Map<NodeId, boolean>();
  /** Scratch for committedIndex(): avoids an allocation per acknowledgement. */
  private matchScratch: number[] = [];

  get voters(): readonly NodeId[] {
    return this.voterIds;
  }

  isVoter(id: NodeId): boolean {
    const pr = this.progress.get(id);
    return pr !== undefined && !pr.isLearner;
  }

  quorum(): number {
    return (this.voterIds.length >> 1) + 1;
  }

  /** Rebuilds the voter list after the progress map changed. */
  refreshVoters(): void {
    const ids: NodeId[] = [];
    for (const [id, pr] of this.progress) if (!pr.isLearner) ids.push(id);
    ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.voterIds = ids;
    this.matchScratch = new Array<number>(ids.length).fill(0);
  }

  confState(): ConfState {
    const learners: NodeId[] = [];
    for (const [id, pr] of this.progress) if (pr.isLearner) learners.push(id);
    learners.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { voters: this.voterIds.slice(), learners };
  }

  /** The highest index stored on a quorum of voters. */
  committedIndex(): number {
    const n = this.voterIds.length;
    if (n === 0) return 0;
    const m = this.matchScratch;
    for (let i = 0; i < n; i++) m[i] = this.progress.get(this.voterIds[i])!.match;
    // Insertion sort, descending: n is a handful of voters.
    for (let i = 1; i < n; i++) {
      const v = m[i];
      let j = i - 1;
      while (j >= 0 && m[j] < v) { m[j + 1] = m[j]; j--; }
      m[j + 1] = v;
    }
    return m[this.quorum() - 1];
  }

  /** Whether a quorum of voters was recently active (`self` always counts). */
  quorumActive(self: NodeId): boolean {
    let active = 0;
    for (const id of this.voterIds) {
      if (id === self || this.progress.get(id)!.recentActive) active++;
    }
    return active >= this.quorum();
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** Tally over voters only: a learner's answer never counts. */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voterIds) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    const q = this.quorum();
    const result: VoteResult = granted >= q ? 'won' : this.voterIds.length - rejected < q ? 'lost' : 'pending';
    return { granted, rejected, result };
  }

  /** Counts the voters among `ids` (ReadIndex acknowledgements). */
  countVoters(ids: ReadonlySet<NodeId>): number {
    let n = 0;
    for (const id of this.voterIds) if (ids.has(id)) n++;
    return n;
  }
}
