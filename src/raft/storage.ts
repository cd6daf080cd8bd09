/**
 * The storage interface the Raft core reads its stable log through, and an in-memory
 * implementation for tests and benchmarks (the WAL-backed one lives with the server).
 *
 * Owns: the read contract between the core and stable storage; MemoryStorage.
 * Must never: be written by the core. The host writes storage (append, applySnapshot,
 * setHardState) while handling a Ready; the core only reads it.
 */
import { RaftError, assertIndex } from './errors.js';
import {
  EMPTY_BYTES, EMPTY_CONF_STATE, EMPTY_HARD_STATE, NONE, entrySizeBytes,
  type ConfState, type Entry, type HardState, type Snapshot,
} from './types.js';

export interface InitialState {
  readonly hardState: HardState;
  /** The configuration as of the host's applied index (the `applied` passed in the config):
   * the last snapshot's ConfState plus every conf change the host applied after it. */
  readonly confState: ConfState;
}

/**
 * Read access to stable storage. Returned arrays and entries belong to the storage but must
 * never change after being returned (the core may keep references to them in messages).
 * Errors are RaftError values: 'Compacted' for an index at or below the snapshot,
 * 'Unavailable' for an index beyond the last entry, 'SnapshotTemporarilyUnavailable' while a
 * snapshot is being built.
 */
export interface Storage {
  initialState(): InitialState;
  /** Entries in [lo, hi), cut to at most `maxBytes` in total but never fewer than one. */
  entries(lo: number, hi: number, maxBytes: number): readonly Entry[];
  /** Term of the entry at `index`, for index in [firstIndex() - 1, lastIndex()]. The entry at
   * firstIndex() - 1 is the last compacted one: only its term is kept (from the snapshot). */
  term(index: number): number;
  /** Index of the first entry still available (snapshot index + 1). */
  firstIndex(): number;
  /** Index of the last entry; firstIndex() - 1 when the log is empty. */
  lastIndex(): number;
  /** The latest snapshot, for a follower too far behind. */
  snapshot(): Snapshot;
}

/** Cuts `ents` to the longest prefix whose size is at most `maxBytes`, keeping at least one. */
export function limitSize(ents: readonly Entry[], maxBytes: number): readonly Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySizeBytes(ents[0]);
  let n = 1;
  while (n < ents.length) {
    size += entrySizeBytes(ents[n]);
    if (size > maxBytes) break;
    n++;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

const EMPTY_SNAPSHOT: Snapshot = Object.freeze({
  metadata: { index: 0, term: 0, confState: EMPTY_CONF_STATE },
  data: EMPTY_BYTES,
});

/**
 * Stable storage kept in memory: what the simulator treats as "disk". `ents[0]` is a dummy
 * entry carrying the snapshot's index and term, so term(firstIndex - 1) needs no special case.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private confState: ConfState = EMPTY_CONF_STATE;
  private snap: Snapshot = EMPTY_SNAPSHOT;
  private ents: Entry[] = [{ term: 0, index: 0, type: 'normal', data: EMPTY_BYTES }];

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  /** Records the configuration as of the host's applied index (see InitialState). */
  setConfState(cs: ConfState): void {
    this.confState = cs;
  }

  private get offset(): number {
    return this.ents[0].index;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.ents.length - 1;
  }

  term(index: number): number {
    const offset = this.offset;
    if (index < offset) throw new RaftError('Compacted');
    if (index - offset >= this.ents.length) throw new RaftError('Unavailable');
    return this.ents[index - offset].term;
  }

  entries(lo: number, hi: number, maxBytes: number): readonly Entry[] {
    const offset = this.offset;
    if (lo <= offset) throw new RaftError('Compacted');
    if (hi > this.lastIndex() + 1) throw new RaftError('Unavailable', `hi ${hi} > last ${this.lastIndex()}`);
    if (lo >= hi) return [];
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Appends entries, replacing any stored entries at or after the first new index. Entries at
   * or below the snapshot index are ignored (already covered by the snapshot). */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[entries.length - 1].index;
    if (last < first) return;
    let start = 0;
    if (entries[0].index < first) start = first - entries[0].index;
    const from = entries[start].index;
    const offset = this.offset;
    if (from - offset > this.ents.length) {
      throw new RaftError('InvalidArgument', `missing log entries [last ${this.lastIndex()}, append at ${from}]`);
    }
    this.ents.length = from - offset;
    for (let i = start; i < entries.length; i++) this.ents.push(entries[i]);
  }

  /** Replaces the whole log with `snap` (a follower catching up from a leader's snapshot). */
  applySnapshot(snap: Snapshot): void {
    if (snap.metadata.index <= this.snap.metadata.index) throw new RaftError('SnapOutOfDate');
    this.snap = snap;
    this.confState = snap.metadata.confState;
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: 'normal', data: EMPTY_BYTES }];
  }

  /** Records a snapshot of the host's state machine at `index` (which it has applied). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    assertIndex(index, 'snapshot index');
    if (index <= this.snap.metadata.index) throw new RaftError('SnapOutOfDate');
    if (index > this.lastIndex()) throw new RaftError('Unavailable', `snapshot ${index} > last ${this.lastIndex()}`);
    const term = this.ents[index - this.offset].term;
    this.snap = { metadata: { index, term, confState }, data };
    return this.snap;
  }

  /** Discards entries before `compactIndex`; the entry at compactIndex becomes the dummy. The
   * host must only compact up to what it has applied and covered by a snapshot. */
  compact(compactIndex: number): void {
    const offset = this.offset;
    if (compactIndex <= offset) throw new RaftError('Compacted');
    if (compactIndex > this.lastIndex()) throw new RaftError('Unavailable', `compact ${compactIndex} > last ${this.lastIndex()}`);
    const keep = this.ents.slice(compactIndex - offset);
    const dummy = keep[0];
    keep[0] = { term: dummy.term, index: dummy.index, type: 'normal', data: EMPTY_BYTES };
    this.ents = keep;
  }

  /** Number of stored entries (excluding the dummy); for tests. */
  get size(): number {
    return this.ents.length - 1;
  }

  /** True when the hard state says nobody voted and nothing happened; for bootstrap checks. */
  isEmpty(): boolean {
    return this.hardState.term === 0 && this.hardState.vote === NONE && this.lastIndex() === 0;
  }
}
