/**
 * Safety invariants the simulator checks after every step, against a global record of what
 * the cluster has done:
 *   - at most one leader per term;
 *   - log matching: an (index, term) pair names one entry everywhere, with the same
 *     predecessor term (so, by induction, identical logs up to it);
 *   - a committed entry never changes: every node whose commit index covers i holds the same
 *     term at i, and every new leader holds every entry committed in an earlier term;
 *   - state machine safety: no two nodes apply different entries (or reach different state
 *     hashes) at the same index, snapshots carry the state hash of their index;
 *   - linearizable reads: a ReadIndex answer is at least the highest commit index anywhere
 *     when the read was requested.
 * Owns: test bookkeeping only. Must never: change node state.
 */
import {
  type Entry, type NodeId, type Ready, type ReadState, type Snapshot,
} from '../../src/raft/index.js';
import { TERM_COMPACTED } from '../../src/raft/log.js';
import type { SimNode, SimStats } from './sim.js';

function bytesKey(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

function entryKey(e: Entry): string {
  return `${e.type === 'normal' ? 'n' : 'c'}:${bytesKey(e.data)}`;
}

export class InvariantViolation extends Error {
  constructor(message: string) {
    super(`invariant violated: ${message}`);
    this.name = 'InvariantViolation';
  }
}

function fail(message: string): never {
  throw new InvariantViolation(message);
}

interface CommittedRecord {
  readonly term: number;
  /** Term of the node that first saw it committed: an upper bound of when it committed. */
  readonly commitTerm: number;
}

export class Invariants {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly committed = new Map<number, CommittedRecord>();
  private readonly applied = new Map<number, { term: number; key: string; hash: number }>();
  private readonly appliedIndexByKey = new Map<string, number>();
  private readonly entryAt = new Map<string, { key: string; prevTerm: number }>();
  private readonly snapshotHash = new Map<number, number>();
  private readonly checkedCommit = new Map<NodeId, number>();
  private readonly reads = new Map<string, number>();
  maxCommitted = 0;

  recordBootstrap(ents: readonly Entry[]): void {
    let prevTerm = 0;
    for (const e of ents) {
      this.committed.set(e.index, { term: e.term, commitTerm: e.term });
      this.entryAt.set(`${e.index}:${e.term}`, { key: entryKey(e), prevTerm });
      prevTerm = e.term;
    }
    this.maxCommitted = ents.length;
  }

  checkNodes(nodes: Iterable<SimNode>, stats: SimStats): void {
    for (const n of nodes) {
      if (n.node === null) continue;
      const r = n.node.raft;
      if (r.state === 'leader') {
        const prev = this.leaderOfTerm.get(r.term);
        if (prev !== undefined && prev !== n.id) fail(`two leaders in term ${r.term}: ${prev} and ${n.id}`);
        if (prev === undefined) {
          this.leaderOfTerm.set(r.term, n.id);
          stats.elections++;
          this.checkLeaderCompleteness(n);
        }
      }
      this.checkCommitted(n);
    }
  }

  private checkCommitted(n: SimNode): void {
    const r = n.node!.raft;
    const c = r.log.committed;
    const from = this.checkedCommit.get(n.id) ?? 0;
    for (let i = from + 1; i <= c; i++) {
      const t = r.log.term(i);
      if (t < 0) continue; // covered by a snapshot
      const rec = this.committed.get(i);
      if (rec === undefined) this.committed.set(i, { term: t, commitTerm: r.term });
      else if (rec.term !== t) fail(`node ${n.id} has term ${t} at committed index ${i}, committed term is ${rec.term}`);
    }
    if (c > from) this.checkedCommit.set(n.id, c);
    if (c > this.maxCommitted) this.maxCommitted = c;
  }

  private checkLeaderCompleteness(n: SimNode): void {
    const r = n.node!.raft;
    for (const [i, rec] of this.committed) {
      if (rec.commitTerm >= r.term) continue;
      const t = r.log.term(i);
      if (t === TERM_COMPACTED) continue;
      if (t !== rec.term) {
        fail(`leader ${n.id} of term ${r.term} lacks committed entry ${i} (term ${rec.term}, committed by term ${rec.commitTerm}); has ${t}`);
      }
    }
  }

  /** Log matching, checked on entries as a node persists them. */
  beforePersist(n: SimNode, rd: Ready): void {
    if (rd.entries.length === 0) return;
    const first = rd.entries[0];
    let prevTerm = -1;
    if (rd.snapshot !== null && rd.snapshot.metadata.index === first.index - 1) prevTerm = rd.snapshot.metadata.term;
    else if (rd.snapshot === null) {
      try {
        prevTerm = n.storage.term(first.index - 1);
      } catch {
        prevTerm = -1;
      }
    }
    for (const e of rd.entries) {
      const k = `${e.index}:${e.term}`;
      const rec = this.entryAt.get(k);
      const key = entryKey(e);
      if (rec === undefined) {
        this.entryAt.set(k, { key, prevTerm });
      } else {
        if (rec.key !== key) fail(`node ${n.id}: entry (${e.index}, t${e.term}) differs from the one seen before`);
        if (rec.prevTerm >= 0 && prevTerm >= 0 && rec.prevTerm !== prevTerm) {
          fail(`node ${n.id}: entry (${e.index}, t${e.term}) follows term ${prevTerm}, elsewhere term ${rec.prevTerm}`);
        }
        if (rec.prevTerm < 0 && prevTerm >= 0) this.entryAt.set(k, { key, prevTerm });
      }
      prevTerm = e.term;
    }
  }

  onApply(n: SimNode, e: Entry): void {
    const key = entryKey(e);
    const rec = this.applied.get(e.index);
    if (rec === undefined) {
      this.applied.set(e.index, { term: e.term, key, hash: n.appliedHash });
    } else {
      if (rec.term !== e.term || rec.key !== key) fail(`node ${n.id} applied a different entry at index ${e.index}`);
      if (rec.hash !== n.appliedHash) fail(`node ${n.id} state hash diverged at index ${e.index}`);
    }
    const c = this.committed.get(e.index);
    if (c !== undefined && c.term !== e.term) fail(`node ${n.id} applied term ${e.term} at ${e.index}, committed term ${c.term}`);
    const commit = n.node!.raft.log.committed;
    if (e.index > commit) fail(`node ${n.id} applied ${e.index} beyond its commit index ${commit}`);
    if (!this.appliedIndexByKey.has(key)) this.appliedIndexByKey.set(key, e.index);
  }

  onApplyOrder(n: SimNode, e: Entry): void {
    if (e.index !== n.appliedIndex + 1) fail(`node ${n.id} applies ${e.index} after ${n.appliedIndex}`);
  }

  onSnapshotCreated(n: SimNode, s: Snapshot): void {
    const hash = new DataView(s.data.buffer, s.data.byteOffset).getUint32(0);
    const rec = this.applied.get(s.metadata.index);
    if (rec !== undefined && rec.hash !== hash) fail(`node ${n.id} snapshot at ${s.metadata.index} has a different state hash`);
    this.snapshotHash.set(s.metadata.index, hash);
  }

  onSnapshotInstalled(n: SimNode, s: Snapshot): void {
    const hash = new DataView(s.data.buffer, s.data.byteOffset).getUint32(0);
    const known = this.snapshotHash.get(s.metadata.index) ?? this.applied.get(s.metadata.index)?.hash;
    if (known !== undefined && known !== hash) fail(`node ${n.id} installed a snapshot at ${s.metadata.index} with a wrong state`);
    if (s.metadata.index < n.appliedIndex) fail(`node ${n.id} installed snapshot ${s.metadata.index} behind applied ${n.appliedIndex}`);
  }

  onReadRequested(ctx: Uint8Array): void {
    this.reads.set(bytesKey(ctx), this.maxCommitted);
  }

  onReadState(n: SimNode, rs: ReadState, appliedIndex: number): void {
    const start = this.reads.get(bytesKey(rs.requestCtx));
    if (start === undefined) fail(`node ${n.id} got a read state for an unknown request`);
    if (rs.index < start) {
      fail(`stale read at node ${n.id}: read index ${rs.index} < commit index ${start} when the read began (applied ${appliedIndex})`);
    }
  }

  indexOfApplied(key: string): number {
    return this.appliedIndexByKey.get(`n:${key}`) ?? -1;
  }
}
