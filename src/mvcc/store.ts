/**
 * MvccStore: the revisioned key space of one member, on LMDB. The server applies committed
 * writes with `applyBatch` (one LMDB write transaction per batch, the raft applied index in the
 * same transaction), serves reads with `range`, makes applied data durable with `sync`, and
 * feeds watchers with the events of each batch and with `eventsSince`.
 *
 * Owns the committed counters (revision, compact revision, applied index) and the background
 * physical compaction. Never knows of Raft or HTTP; never keeps an in-memory index of keys:
 * opening costs a few meta reads whatever the number of keys.
 *
 * Every write transaction here is synchronous (lmdb's asynchronous transaction callbacks do
 * not run in this environment) and committed without fsync; `sync()` forces the fsync.
 */
import { mkdirSync, openSync, fsyncSync, closeSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Database, RootDatabase } from 'lmdb';
import { CairnError } from '../errors/errors.js';
import type { Event, RangeRequest, RangeResult, WriteOutcome, WriteRequest } from './types.js';
import {
  META, MVCC_LAYOUT_VERSION, WRITE_TXN_FLAGS, entryCount, openTables, readMetaU64, writeMetaU64,
  type MvccTables,
} from './tables.js';
import { executeRange } from './range-query.js';
import { checkRangeRequest, type RequestLimits } from './request-check.js';
import { WriteBatch, type BatchState } from './write-batch.js';
import { compactChunk } from './compaction.js';
import { eventsSince, hashUpTo, type EventsPage } from './history-scan.js';
import { encodeLease } from './revision.js';

/** LMDB's key limit (1,978 bytes at 4 KiB pages) minus the 8-byte lease prefix of `leaseKeys`. */
export const MAX_KEY_BYTES_LIMIT = 1970;
export const DEFAULT_MAX_TXN_OPS = 128;
/** `revs` entries one physical-compaction transaction examines (a few ms of work). */
export const DEFAULT_COMPACTION_CHUNK_ENTRIES = 1000;

export interface MvccOptions {
  dir: string;
  mapSizeBytes?: number;
  /** Longest key (and range end) accepted; at most and by default MAX_KEY_BYTES_LIMIT. */
  maxKeyBytes?: number;
  /** etcd's --max-txn-ops. */
  maxTxnOps?: number;
  compactionChunkEntries?: number;
}

export interface ApplyOptions {
  appliedIndex?: bigint;
  leaseExists?: (id: bigint) => boolean;
  /** Runs inside the same LMDB write transaction, after the writes; throwing aborts the batch. */
  inTxn?: () => void;
}

export interface HashResult {
  hash: number;
  hashRevision: bigint;
  compactRevision: bigint;
}

export interface TableCounts {
  liveKeys: number;
  deletedKeysWithHistory: number;
  revisions: number;
  leaseAttachments: number;
}

export class MvccStore {
  private t: MvccTables;
  private readonly limits: RequestLimits;
  private readonly chunkEntries: number;
  private state: BatchState;
  private applied: bigint;
  private closed = false;
  private compactionLoop: Promise<void> | null = null;
  private compactionFailure: unknown = undefined;
  private runningSync: Promise<void> | null = null;
  private queuedSync: Promise<void> | null = null;
  /** Named tables of other parts (leases, auth, alarms) in this environment, by name. */
  private readonly serverTables = new Map<string, BinaryDb>();
  /** Copies of the environment being written (backups); a swap waits for them. */
  private copiesInFlight = new Set<Promise<void>>();
  /** Set while the environment is being replaced: no reads or writes may touch it. */
  private swapping = false;

  private constructor(private readonly dir: string, t: MvccTables, private readonly opts: MvccOptions) {
    this.t = t;
    const maxKeyBytes = opts.maxKeyBytes ?? MAX_KEY_BYTES_LIMIT;
    if (!(maxKeyBytes > 0 && maxKeyBytes <= MAX_KEY_BYTES_LIMIT)) {
      throw new Error(`mvcc: maxKeyBytes must be 1..${MAX_KEY_BYTES_LIMIT}, got ${maxKeyBytes}`);
    }
    this.limits = { maxKeyBytes, maxTxnOps: opts.maxTxnOps ?? DEFAULT_MAX_TXN_OPS };
    this.chunkEntries = opts.compactionChunkEntries ?? DEFAULT_COMPACTION_CHUNK_ENTRIES;
    this.state = loadOrInitMeta(t, dir);
    this.applied = readMetaU64(t, META.applied) ?? 0n;
  }

  /** Opens (creating if needed) the store in `dir`. Synchronous; reads only the meta table. */
  static open(opts: MvccOptions): MvccStore {
    const t = openTables(opts.dir, opts.mapSizeBytes);
    let store: MvccStore;
    try {
      store = new MvccStore(opts.dir, t, opts);
    } catch (e) {
      void t.env.close();
      throw e;
    }
    if (store.physicalCompactionPending()) store.startCompactionLoop();
    return store;
  }

  /** The LMDB environment. Changes when the data file is replaced (snapshot install, defragment):
   * never keep it; keep tables from `openTable` instead. */
  get env(): RootDatabase { return this.t.env; }

  /**
   * A named table of another part of the server in this environment (written inside the store's
   * write transactions through `inTxn`, so it commits atomically with the key space and travels
   * in snapshots). The handle stays valid when the environment is replaced.
   */
  openTable(name: string): BinaryDb {
    if (name.startsWith('mvcc.')) throw new Error(`mvcc: table name ${name} is reserved`);
    this.serverTables.set(name, openServerTable(this.t.env, name));
    const tables = this.serverTables;
    return new Proxy({} as BinaryDb, {
      get(_target, prop) {
        const db = tables.get(name)! as unknown as Record<string | symbol, unknown>;
        const v = db[prop];
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(db) : v;
      },
    });
  }

  /**
   * Writes a consistent copy of the whole environment to `dir`/data.mdb (`compact`: without
   * free pages, slower). Readers and writers go on meanwhile; the copy is as of its start.
   */
  async copyTo(dir: string, compact: boolean): Promise<void> {
    this.checkOpen();
    mkdirSync(dir, { recursive: true });
    const p = this.t.env.backup(dir, compact);
    this.copiesInFlight.add(p);
    try {
      await p;
    } finally {
      this.copiesInFlight.delete(p);
    }
  }

  /**
   * Replaces this store's data with the environment in `sourceDir`/data.mdb (a received Raft
   * snapshot, or a compacted copy when defragmenting) and reopens it. The caller guarantees no
   * write is applied meanwhile. The rename is atomic: a crash leaves the old file or the new one.
   */
  async replaceWith(sourceDir: string): Promise<void> {
    this.checkOpen();
    const source = join(sourceDir, 'data.mdb');
    statSync(source);
    await this.stopCompaction();
    await Promise.allSettled([...this.copiesInFlight]);
    await this.sync();
    this.swapping = true;
    try {
      void this.t.env.close();
      renameSync(source, join(this.dir, 'data.mdb'));
      fsyncDir(this.dir);
      rmSync(sourceDir, { recursive: true, force: true });
      this.t = openTables(this.dir, this.opts.mapSizeBytes);
      for (const name of this.serverTables.keys()) this.serverTables.set(name, openServerTable(this.t.env, name));
      this.state = loadOrInitMeta(this.t, this.dir);
      this.applied = readMetaU64(this.t, META.applied) ?? 0n;
    } finally {
      this.swapping = false;
    }
    this.compactionStopped = false;
    if (this.physicalCompactionPending()) this.startCompactionLoop();
  }

  private compactionStopped = false;

  /**
   * Makes this store the start of a new cluster's log (restoring a snapshot): the applied index
   * goes back to 0 and the named server tables are emptied; the key space and its revisions stay.
   * Durable when it resolves.
   */
  async detachFromLog(clearTables: string[]): Promise<void> {
    this.checkOpen();
    const tables = clearTables.map((name) => this.openTable(name));
    this.t.env.transactionSync(() => {
      writeMetaU64(this.t, META.applied, 0n);
      for (const t of tables) for (const { key } of t.getRange({})) void t.remove(key as Buffer);
    }, WRITE_TXN_FLAGS);
    this.applied = 0n;
    await this.sync();
  }

  private async stopCompaction(): Promise<void> {
    this.compactionStopped = true;
    while (this.compactionLoop !== null) await this.compactionLoop;
  }

  /** The revision of the last committed change (1 on a fresh store, as etcd). */
  get currentRevision(): bigint { return this.state.mainRevision; }
  /** 0 when never compacted. */
  get compactRevision(): bigint { return this.state.compactRevision < 0n ? 0n : this.state.compactRevision; }
  get appliedIndex(): bigint { return this.applied; }

  range(req: RangeRequest): RangeResult {
    this.checkOpen();
    checkRangeRequest(req, this.limits);
    return executeRange(this.t, req, { currentRevision: this.state.mainRevision, compactRevision: this.state.compactRevision });
  }

  /**
   * Applies `writes` in order in one LMDB write transaction. Resolves once committed (visible
   * to reads), before it is durable (see sync()). Rejects, with nothing applied, only on a
   * storage failure or when `inTxn` throws; request errors are per-write outcomes.
   */
  applyBatch(writes: WriteRequest[], opts: ApplyOptions = {}): Promise<{ outcomes: WriteOutcome[]; events: Event[] }> {
    try {
      this.checkOpen();
      return Promise.resolve(this.applyBatchSync(writes, opts));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private applyBatchSync(writes: WriteRequest[], opts: ApplyOptions): { outcomes: WriteOutcome[]; events: Event[] } {
    const before = { ...this.state };
    const batch = new WriteBatch(this.t, this.limits, { ...this.state }, opts.leaseExists);
    const outcomes = this.t.env.transactionSync(() => {
      const results = writes.map((w) => batch.apply(w));
      batch.writeMeta(before, opts.appliedIndex);
      opts.inTxn?.();
      return results;
    }, WRITE_TXN_FLAGS);
    this.state = batch.state;
    if (opts.appliedIndex !== undefined) this.applied = opts.appliedIndex;
    if (batch.compactionRequested) this.startCompactionLoop();
    return { outcomes, events: batch.events };
  }

  /** Resolves when everything committed before the call is on disk (one fsync serves many callers). */
  sync(): Promise<void> {
    if (this.queuedSync !== null) return this.queuedSync;
    if (this.runningSync === null) return this.startSync();
    const afterRunning = this.runningSync.catch(() => undefined);
    this.queuedSync = afterRunning.then(() => {
      this.queuedSync = null;
      return this.startSync();
    });
    return this.queuedSync;
  }

  private startSync(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      // lmdb's untyped env.sync(callback): mdb_env_sync(force) on a worker thread.
      (this.t.env as unknown as EnvWithSync).sync((err?: unknown) => (err ? reject(err) : resolve()));
    }).finally(() => {
      if (this.runningSync === p) this.runningSync = null;
    });
    this.runningSync = p;
    return p;
  }

  eventsSince(fromRevision: bigint, maxEvents: number): EventsPage {
    this.checkOpen();
    return eventsSince(this.t, fromRevision, maxEvents, this.state.mainRevision, this.state.compactRevision);
  }

  keysOfLease(lease: bigint): Uint8Array[] {
    this.checkOpen();
    const prefix = encodeLease(lease);
    const keys: Uint8Array[] = [];
    for (const k of this.t.leaseKeys.getKeys({ start: prefix })) {
      const key = k as Buffer;
      if (key.length < 8 || key.compare(prefix, 0, 8, 0, 8) !== 0) break;
      keys.push(key.subarray(8));
    }
    return keys;
  }

  /** etcd's HashKV: revision 0 means the current one. Synchronous: one read snapshot, O(history). */
  hashKV(revision: bigint): HashResult {
    this.checkOpen();
    const mainRevision = this.state.mainRevision;
    const compactRevision = this.compactRevision;
    if (revision > mainRevision) throw new CairnError('FutureRev');
    if (revision > 0n && revision < compactRevision) throw new CairnError('Compacted');
    const hashRevision = revision > 0n ? revision : mainRevision;
    return { hash: hashUpTo(this.t, hashRevision, compactRevision), hashRevision, compactRevision };
  }

  /** Resolves when physical compaction queued so far is done; rejects if it failed. */
  async compactionSettled(): Promise<void> {
    while (this.compactionLoop !== null) await this.compactionLoop;
    if (this.compactionFailure !== undefined) throw this.compactionFailure;
  }

  private physicalCompactionPending(): boolean {
    return (readMetaU64(this.t, META.compactTarget) ?? 0n) > (readMetaU64(this.t, META.compactDone) ?? 0n);
  }

  private startCompactionLoop(): void {
    if (this.compactionLoop !== null || this.compactionStopped) return;
    // Failures are kept for compactionSettled(), never left as an unhandled rejection.
    this.compactionLoop = this.runCompaction().catch((e: unknown) => {
      this.compactionFailure = e;
    });
  }

  private async runCompaction(): Promise<void> {
    try {
      for (;;) {
        await yieldToEventLoop(); // first yield: startCompactionLoop's caller finishes its turn
        if (this.closed || this.compactionStopped) return;
        const target = readMetaU64(this.t, META.compactTarget) ?? 0n;
        const { done } = this.t.env.transactionSync(() => {
          const r = compactChunk(this.t, target, this.chunkEntries);
          if (r.done) writeMetaU64(this.t, META.compactDone, target);
          return r;
        }, WRITE_TXN_FLAGS);
        if (done && (readMetaU64(this.t, META.compactTarget) ?? 0n) === target) return;
      }
    } finally {
      // Cleared in the same turn as the last target check, so a compaction applied after it
      // always finds no loop running and starts one.
      this.compactionLoop = null;
    }
  }

  dbSizeBytes(): number {
    return statSync(join(this.dir, 'data.mdb')).size;
  }

  /** Pages held by the tables of the key space (and the root), in bytes. */
  dbSizeInUseBytes(): number {
    let pages = 0;
    const root = this.t.env.getStats() as { pageSize: number; root: PageStats };
    for (const table of [this.t.latest, this.t.graveyard, this.t.revs, this.t.leaseKeys, this.t.meta, ...this.serverTables.values()]) {
      pages += pagesOf(table.getStats() as PageStats);
    }
    return (pages + pagesOf(root.root)) * root.pageSize;
  }

  tableCounts(): TableCounts {
    return {
      liveKeys: entryCount(this.t.latest),
      deletedKeysWithHistory: entryCount(this.t.graveyard),
      revisions: entryCount(this.t.revs),
      leaseAttachments: entryCount(this.t.leaseKeys),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compactionLoop;
    await Promise.allSettled([...this.copiesInFlight]);
    await this.sync();
    await this.t.env.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new CairnError('Stopped');
    if (this.swapping) throw new CairnError('StoreSwapping');
  }
}

export type BinaryDb = Database<Buffer, Buffer>;

function openServerTable(env: RootDatabase, name: string): BinaryDb {
  return env.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary', cache: false });
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

interface EnvWithSync {
  sync(callback: (err?: unknown) => void): void;
}

interface PageStats {
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
}

function pagesOf(s: PageStats): number {
  return s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
}

function loadOrInitMeta(t: MvccTables, dir: string): BatchState {
  const layout = readMetaU64(t, META.layout);
  if (layout === undefined) {
    if (entryCount(t.revs) > 0 || entryCount(t.latest) > 0) {
      throw new Error(`mvcc: data dir ${dir} holds key-space data but no layout version; refusing to open it`);
    }
    t.env.transactionSync(() => {
      writeMetaU64(t, META.layout, MVCC_LAYOUT_VERSION);
      writeMetaU64(t, META.revision, 1n);
    }, WRITE_TXN_FLAGS);
  } else if (layout !== MVCC_LAYOUT_VERSION) {
    throw new Error(`mvcc: data dir ${dir} has key-space layout version ${layout}; this Cairn reads layout version ${MVCC_LAYOUT_VERSION} only`);
  }
  return {
    mainRevision: readMetaU64(t, META.revision) ?? 1n,
    compactRevision: readMetaU64(t, META.compact) ?? -1n,
  };
}
