/**
 * WalStorage: the Raft core's stable storage on disk — the durable twin of src/raft's
 * MemoryStorage, with the same read contract, backed by src/wal's log and snapshot files.
 *
 * Owns: the meaning of the WAL's records for Raft (entries, hard state, conf state, snapshot
 * and compaction markers), the in-memory cache of entries since the last compaction (the
 * core's reads are synchronous), replay at open, and releasing WAL segments a snapshot covers.
 * Must never: acknowledge anything before it is fsync'd (persist() resolves only then), hand
 * out entries it may later change, or open a log it cannot account for (it refuses instead,
 * with the file and the reason).
 *
 * Every mutation is a WAL record, and replaying the records in order rebuilds the same state:
 *   Entry     (index = entry index)  append with truncation: an entry at an index already held
 *                                    cuts the stored tail there first, so a restart replays
 *                                    exactly the same conflicting-tail truncations
 *   HardState, ConfState             the latest one wins; written at persist(), after the
 *                                    entries of the same batch, so a torn tail never keeps a
 *                                    commit index whose entries were cut
 *   Snapshot  (flag: created/installed, metadata)  the snapshot's bytes live in a snapshot file
 *                                    saved (and fsync'd) before the marker is written; an
 *                                    installed one also replaces the whole log
 *   Compact   (the new dummy entry: index, term)   entries before it are gone
 * The last four are the WAL's sticky kinds, re-written at the head of every segment (in kind
 * order, not log order), so that releasing old segments never loses them. So that the order
 * of those copies does not matter, each piece of state comes from one kind only: an installed
 * snapshot also writes a ConfState record (the snapshot's) and a Compact record (its index),
 * and replay skips copies it has already seen. Replay starting at a segment head may meet the
 * first retained entry after a gap, which a later compaction marker must cover.
 *
 * Indexes and terms are JS numbers, as in src/raft (see src/raft/types.ts for why).
 */
import { join } from 'node:path';
import {
  EMPTY_BYTES, EMPTY_CONF_STATE, EMPTY_HARD_STATE, NONE, RaftError, decodeEntry, decodeHardState,
  decodeSnapshot, encodeEntry, encodeHardState, encodeSnapshot, limitSize,
  type ConfState, type Entry, type HardState, type InitialState, type Snapshot, type SnapshotMetadata,
  type Storage,
} from '../raft/index.js';
import {
  DEFAULT_MAX_SNAPSHOTS, SILENT_LOGGER, Wal, WalError, loadSnapshot, saveSnapshot,
  type WalLogger, type WalRecord, type WalStats,
} from '../wal/index.js';

/** WAL record kinds. Stored on disk: never renumber. */
export const RaftRecordKind = {
  Entry: 1,
  HardState: 2,
  ConfState: 3,
  Snapshot: 4,
  Compact: 5,
} as const;

/** Entries applied between snapshots: the issue's --snapshot-count default (etcd 3.6's). */
export const DEFAULT_SNAPSHOT_COUNT = 10_000;
/** Entries kept behind a snapshot when compacting, so that a follower slightly behind catches
 * up from the log instead of needing the whole snapshot (etcd keeps 5000). */
export const SNAPSHOT_CATCH_UP_ENTRIES = 5_000;

const STICKY_KINDS = [RaftRecordKind.HardState, RaftRecordKind.ConfState, RaftRecordKind.Snapshot, RaftRecordKind.Compact];
const SNAPSHOT_INSTALLED = 1;
const SNAPSHOT_CREATED = 0;
/** Offset term while replay has not yet met the compaction marker covering a leading gap. */
const TERM_UNKNOWN = -1;

const EMPTY_SNAPSHOT: Snapshot = Object.freeze({
  metadata: { index: 0, term: 0, confState: EMPTY_CONF_STATE },
  data: EMPTY_BYTES,
});

export interface WalStorageOptions {
  /** Default `<dir>/wal`. */
  readonly walDir?: string;
  /** Default `<dir>/snap`. */
  readonly snapDir?: string;
  readonly segmentSizeBytes?: number;
  /** Zeros written ahead of the WAL's live segment (see src/wal/wal.ts); 0 disables. */
  readonly preallocateBytes?: number;
  /** Snapshot files kept (etcd's --max-snapshots, default 5; 0 keeps all). */
  readonly maxSnapshots?: number;
}

function dummyEntry(index: number, term: number): Entry {
  return { term, index, type: 'normal', data: EMPTY_BYTES };
}

/** A ConfState travels as an empty snapshot carrying it: the raft codec's layout for it. */
function encodeConfState(cs: ConfState): Uint8Array {
  return encodeSnapshot({ metadata: { index: 0, term: 0, confState: cs }, data: EMPTY_BYTES });
}

function encodeSnapshotMarker(meta: SnapshotMetadata, flag: number): Uint8Array {
  const body = encodeSnapshot({ metadata: meta, data: EMPTY_BYTES });
  const out = new Uint8Array(1 + body.length);
  out[0] = flag;
  out.set(body, 1);
  return out;
}

/** The log state a replay of WAL records builds, before it becomes a WalStorage. */
class Replay {
  hardState: HardState = EMPTY_HARD_STATE;
  confState: ConfState = EMPTY_CONF_STATE;
  snapMeta: SnapshotMetadata | null = null;
  offsetIndex = 0;
  offsetTerm = 0;
  ents: Entry[] = [];

  constructor(private readonly walDir: string) {}

  apply(r: WalRecord): void {
    try {
      switch (r.kind) {
        case RaftRecordKind.Entry: return this.entry(decodeEntry(r.data), r.index);
        case RaftRecordKind.HardState: this.hardState = decodeHardState(r.data); return;
        case RaftRecordKind.ConfState: this.confState = decodeSnapshot(r.data).metadata.confState; return;
        case RaftRecordKind.Snapshot: return this.snapshot(decodeSnapshot(r.data.subarray(1)).metadata, r.data[0]);
        case RaftRecordKind.Compact: return this.compact(decodeEntry(r.data));
        default: throw new Error(`unknown record kind ${r.kind} (written by a newer Cairn?)`);
      }
    } catch (e) {
      if (e instanceof WalError) throw e;
      throw this.refuse(`record kind ${r.kind} index ${r.index}: ${(e as Error).message}`);
    }
  }

  refuse(why: string): WalError {
    return new WalError('Corrupt', `raft log in ${this.walDir} cannot be replayed: ${why}; refusing to open`);
  }

  private entry(e: Entry, recordIndex: number): void {
    if (e.index !== recordIndex) throw this.refuse(`entry ${e.index} stored under index ${recordIndex}`);
    if (e.index <= this.offsetIndex) return;
    const last = this.offsetIndex + this.ents.length;
    if (e.index > last + 1) {
      // The first retained entry after released segments: a later Compact must cover the gap.
      if (this.ents.length !== 0) throw this.refuse(`entry ${e.index} follows entry ${last}: entries are missing`);
      this.offsetIndex = e.index - 1;
      this.offsetTerm = TERM_UNKNOWN;
    }
    this.ents.length = e.index - this.offsetIndex - 1;
    this.ents.push(e);
  }

  private snapshot(meta: SnapshotMetadata, flag: number): void {
    if (this.snapMeta !== null && meta.index <= this.snapMeta.index) return; // a carried copy
    this.snapMeta = meta;
    if (flag === SNAPSHOT_INSTALLED) {
      this.offsetIndex = meta.index;
      this.offsetTerm = meta.term;
      this.ents = [];
    } else if (flag !== SNAPSHOT_CREATED) {
      throw this.refuse(`snapshot marker flag ${flag}`);
    }
  }

  private compact(d: Entry): void {
    if (d.index === this.offsetIndex && this.offsetTerm === TERM_UNKNOWN) {
      this.offsetTerm = d.term; // the marker that covers the gap before the first retained entry
      return;
    }
    if (d.index <= this.offsetIndex) return; // a carried copy, or covered by an installed snapshot
    const drop = d.index - this.offsetIndex;
    if (drop <= this.ents.length) {
      const held = this.ents[drop - 1];
      if (held.term !== d.term) throw this.refuse(`compaction at ${d.index} term ${d.term} but the entry there has term ${held.term}`);
      this.ents = this.ents.slice(drop);
    } else {
      this.ents = [];
    }
    this.offsetIndex = d.index;
    this.offsetTerm = d.term;
  }
}

export class WalStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private confState: ConfState = EMPTY_CONF_STATE;
  private snap: Snapshot = EMPTY_SNAPSHOT;
  /** ents[0] is a dummy holding the last compacted index and term, as in MemoryStorage. */
  private ents: Entry[] = [dummyEntry(0, 0)];
  private hardStateDirty = false;
  private confStateDirty = false;

  private constructor(
    private readonly wal: Wal,
    private readonly snapDir: string,
    private readonly maxSnapshots: number,
    private readonly logger: WalLogger,
  ) {}

  /** Opens (or creates) the storage under `dir`, restoring from the snapshot file and WAL. */
  static async open(dir: string, logger: WalLogger = SILENT_LOGGER, opts: WalStorageOptions = {}): Promise<WalStorage> {
    const walDir = opts.walDir ?? join(dir, 'wal');
    const snapDir = opts.snapDir ?? join(dir, 'snap');
    const { wal, records } = await Wal.open(walDir, {
      segmentSizeBytes: opts.segmentSizeBytes, preallocateBytes: opts.preallocateBytes, stickyKinds: STICKY_KINDS, logger,
    });
    try {
      const replay = new Replay(walDir);
      for (const r of records) replay.apply(r);
      if (replay.offsetTerm === TERM_UNKNOWN) {
        throw replay.refuse(`entries before ${replay.offsetIndex + 1} were released but no compaction marker covers them`);
      }
      const snap = replay.snapMeta === null ? EMPTY_SNAPSHOT : await WalStorage.readSnapshot(snapDir, replay.snapMeta);
      const storage = new WalStorage(wal, snapDir, opts.maxSnapshots ?? DEFAULT_MAX_SNAPSHOTS, logger);
      storage.restore(replay, snap);
      logger.info({ dir, firstIndex: storage.firstIndex(), lastIndex: storage.lastIndex(), snapshotIndex: snap.metadata.index, records: records.length },
        'raft storage: restored from snapshot and WAL');
      return storage;
    } catch (e) {
      await wal.close();
      throw e;
    }
  }

  private static async readSnapshot(snapDir: string, meta: SnapshotMetadata): Promise<Snapshot> {
    let snap: Snapshot;
    try {
      snap = decodeSnapshot((await loadSnapshot(snapDir, meta.term, meta.index)).data);
    } catch (e) {
      throw new WalError('Corrupt',
        `the WAL records a snapshot at index ${meta.index} term ${meta.term}, but its file in ${snapDir} cannot be used (${(e as Error).message}); refusing to open`, { cause: e });
    }
    if (snap.metadata.index !== meta.index || snap.metadata.term !== meta.term) {
      throw new WalError('Corrupt', `snapshot file for index ${meta.index} term ${meta.term} in ${snapDir} holds index ${snap.metadata.index} term ${snap.metadata.term}`);
    }
    return snap;
  }

  private restore(r: Replay, snap: Snapshot): void {
    this.hardState = r.hardState;
    this.confState = r.confState;
    this.snap = snap;
    this.ents = [dummyEntry(r.offsetIndex, r.offsetTerm), ...r.ents];
  }

  // ---- the read contract (src/raft Storage) ----

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.confState };
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

  // ---- writes: buffered in the WAL, durable at persist() ----

  /** Appends entries, replacing any stored entries at or after the first new index; entries
   * at or below the compaction point are ignored. Durable at the next persist(). */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    if (entries[entries.length - 1].index < first) return;
    const start = entries[0].index < first ? first - entries[0].index : 0;
    const from = entries[start].index;
    const offset = this.offset;
    if (from - offset > this.ents.length) {
      throw new RaftError('InvalidArgument', `missing log entries [last ${this.lastIndex()}, append at ${from}]`);
    }
    for (let i = start + 1; i < entries.length; i++) {
      if (entries[i].index !== entries[i - 1].index + 1) throw new RaftError('InvalidArgument', `entries not contiguous at ${entries[i].index}`);
    }
    const records: WalRecord[] = [];
    for (let i = start; i < entries.length; i++) {
      const e = entries[i];
      records.push({ kind: RaftRecordKind.Entry, index: e.index, data: encodeEntry(e) });
    }
    this.wal.append(records);
    this.ents.length = from - offset;
    for (let i = start; i < entries.length; i++) this.ents.push(entries[i]);
  }

  /** Durable at the next persist(). */
  setHardState(hs: HardState): void {
    this.hardState = hs;
    this.hardStateDirty = true;
  }

  /** Records the configuration as of the host's applied index; durable at the next persist(). */
  setConfState(cs: ConfState): void {
    this.confState = cs;
    this.confStateDirty = true;
  }

  /** Makes everything written since the last call durable with one fdatasync (shared with any
   * concurrent caller). Only after it resolves may the host send the Ready's messages. */
  persist(): Promise<void> {
    try {
      this.appendStateRecords();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.wal.sync();
  }

  /** Hard state and conf state go after the entries of their batch (see the header). */
  private appendStateRecords(): void {
    const records: WalRecord[] = [];
    if (this.confStateDirty) records.push({ kind: RaftRecordKind.ConfState, index: 0, data: encodeConfState(this.confState) });
    if (this.hardStateDirty) records.push({ kind: RaftRecordKind.HardState, index: 0, data: encodeHardState(this.hardState) });
    if (records.length === 0) return;
    this.wal.append(records);
    this.confStateDirty = false;
    this.hardStateDirty = false;
  }

  /** Replaces the whole log with a leader's snapshot (a follower catching up): saves the
   * snapshot file, then the marker, durably, then releases the WAL segments it covers. */
  async applySnapshot(snap: Snapshot): Promise<void> {
    if (snap.metadata.index <= this.snap.metadata.index) throw new RaftError('SnapOutOfDate');
    await this.saveSnapshotFile(snap);
    if (snap.metadata.index <= this.snap.metadata.index) throw new RaftError('SnapOutOfDate');
    const { index, term, confState } = snap.metadata;
    this.appendStateRecords();
    const dummy = dummyEntry(index, term);
    this.wal.append([
      { kind: RaftRecordKind.Snapshot, index, data: encodeSnapshotMarker(snap.metadata, SNAPSHOT_INSTALLED) },
      { kind: RaftRecordKind.Compact, index, data: encodeEntry(dummy) },
    ]);
    this.snap = snap;
    this.ents = [dummy];
    this.setConfState(confState);
    this.appendStateRecords();
    await this.wal.sync();
    await this.wal.releaseBefore(snap.metadata.index + 1);
  }

  /** Records a snapshot of the host's state machine at `index` (which it has applied): the
   * snapshot file and its marker are durable when this resolves. */
  async createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    if (!Number.isSafeInteger(index) || index < 0) throw new RaftError('InvalidArgument', `snapshot index = ${index}`);
    if (index <= this.snap.metadata.index) throw new RaftError('SnapOutOfDate');
    if (index > this.lastIndex()) throw new RaftError('Unavailable', `snapshot ${index} > last ${this.lastIndex()}`);
    const snap: Snapshot = { metadata: { index, term: this.term(index), confState }, data };
    await this.saveSnapshotFile(snap);
    if (index <= this.snap.metadata.index) throw new RaftError('SnapOutOfDate');
    this.appendStateRecords();
    this.wal.append([{ kind: RaftRecordKind.Snapshot, index, data: encodeSnapshotMarker(snap.metadata, SNAPSHOT_CREATED) }]);
    this.snap = snap;
    await this.wal.sync();
    return snap;
  }

  private async saveSnapshotFile(snap: Snapshot): Promise<void> {
    const { index, term } = snap.metadata;
    await saveSnapshot(this.snapDir, { index, term, data: encodeSnapshot(snap) }, { maxSnapshots: this.maxSnapshots, logger: this.logger });
  }

  /** Discards entries before `compactIndex` (the entry there becomes the dummy), durably, then
   * deletes the WAL segments holding only discarded entries. Compact only up to what is
   * applied and covered by a snapshot. */
  async compact(compactIndex: number): Promise<void> {
    const offset = this.offset;
    if (compactIndex <= offset) throw new RaftError('Compacted');
    if (compactIndex > this.lastIndex()) throw new RaftError('Unavailable', `compact ${compactIndex} > last ${this.lastIndex()}`);
    const keep = this.ents.slice(compactIndex - offset);
    const dummy = dummyEntry(keep[0].index, keep[0].term);
    this.appendStateRecords();
    this.wal.append([{ kind: RaftRecordKind.Compact, index: compactIndex, data: encodeEntry(dummy) }]);
    keep[0] = dummy;
    this.ents = keep;
    await this.wal.sync();
    await this.wal.releaseBefore(compactIndex + 1);
  }

  /** The host's periodic snapshot (every DEFAULT_SNAPSHOT_COUNT applied entries): snapshot
   * the state machine at `appliedIndex`, then compact the log to keep `catchUpEntries` behind
   * it, releasing the WAL segments before that. */
  async snapshotAndCompact(appliedIndex: number, confState: ConfState, data: Uint8Array,
    catchUpEntries = SNAPSHOT_CATCH_UP_ENTRIES): Promise<Snapshot> {
    const snap = await this.createSnapshot(appliedIndex, confState, data);
    const compactIndex = appliedIndex - catchUpEntries;
    if (compactIndex > this.offset) await this.compact(compactIndex);
    return snap;
  }

  /** Persists what is pending and closes the WAL. */
  async close(): Promise<void> {
    try {
      this.appendStateRecords();
    } finally {
      await this.wal.close();
    }
  }

  /** Number of stored entries (excluding the dummy); for tests. */
  get size(): number {
    return this.ents.length - 1;
  }

  /** True when the hard state says nobody voted and nothing happened; for bootstrap checks. */
  isEmpty(): boolean {
    return this.hardState.term === 0 && this.hardState.vote === NONE && this.lastIndex() === 0;
  }

  /** The WAL's counters (fsyncs, flushes, bytes), for metrics. */
  get walStats(): Readonly<WalStats> {
    return this.wal.stats;
  }

  /** WAL segment file names, oldest first; for tests and operators. */
  walSegmentNames(): string[] {
    return this.wal.segmentNames();
  }
}
