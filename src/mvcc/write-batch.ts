/**
 * Applies a batch of writes inside one LMDB write transaction (the caller opens and commits it).
 * Each changing write takes the next main revision; its changes take sub revisions 0, 1, ...
 * A write that fails a check throws a CairnError before it changes anything, so it consumes no
 * revision; a failure after a change began is a bug or I/O error and aborts the whole batch.
 *
 * Owns the per-key bookkeeping of a change (latest/graveyard/revs/leaseKeys and the event).
 * Never commits, never fsyncs, never touches the store's committed state: the store copies
 * `mainRevision` and `compactRevision` back only after the commit.
 */
import { CairnError } from '../errors/errors.js';
import type {
  Bytes, DeleteRangeRequest, DeleteRangeResult, Event, KeyValue, PutRequest, PutResult, RequestOp,
  ResponseOp, TxnRequest, TxnResult, WriteOutcome, WriteRequest, WriteResult,
} from './types.js';
import { META, WRITE_TXN_FLAGS, writeMetaU64, type MvccTables } from './tables.js';
import {
  EMPTY, Scratch, decodeGrave, decodeLatest, encodeGrave, encodeLatestInto, encodeVersionInto, latestMod,
  type RevisionRef,
} from './record-codec.js';
import { encodeLease, MAX_SUB_REVISION, REVISION_BYTES } from './revision.js';
import { compareBytes, spanContains, spanOf, spanIsEmpty, spanEnd, type KeySpan } from './key-span.js';
import { executeRange, checkReadRevision } from './range-query.js';
import { comparesHold } from './compare.js';
import {
  checkDeleteRequest, checkPutRequest, checkTxnRequest, type RequestLimits,
} from './request-check.js';

export interface BatchState {
  mainRevision: bigint;
  /** -1 until the first compaction (etcd's starting point). */
  compactRevision: bigint;
}

/** The branch a txn takes, decided (as etcd) for every nested txn before anything is written. */
interface TxnPlan {
  succeeded: boolean;
  ops: RequestOp[];
  /** Plans of the nested txns among `ops`, in order. */
  nested: TxnPlan[];
}

const NO_REVISION: RevisionRef = { main: 0n, sub: 0 };

/** A write along a txn's path, as the pre-checks see it. */
type TxnTrail = { put: Bytes } | { deleted: KeySpan };

/** Whether a key that existed before the txn still exists after the writes of `trail`. */
function stillThere(trail: readonly TxnTrail[], key: Bytes): boolean {
  for (let i = trail.length - 1; i >= 0; i--) {
    const w = trail[i];
    if ('put' in w) {
      if (compareBytes(w.put, key) === 0) return true;
    } else if (spanContains(w.deleted, key)) {
      return false;
    }
  }
  return true;
}

export function leaseKey(lease: bigint, key: Bytes): Buffer {
  return Buffer.concat([encodeLease(lease), key]);
}

export class WriteBatch {
  readonly events: Event[] = [];
  /** Set when a compaction request was accepted in this batch. */
  compactionRequested = false;
  private sub = 0;
  private dirty = false;
  // Reused encoding areas: lmdb copies keys and values during a synchronous put.
  private readonly latestScratch = new Scratch();
  private readonly versionScratch = new Scratch();
  private readonly revScratch = new Scratch(REVISION_BYTES);

  constructor(
    private readonly t: MvccTables,
    private readonly limits: RequestLimits,
    readonly state: BatchState,
    private readonly leaseExists?: (id: bigint) => boolean,
  ) {}

  apply(write: WriteRequest): WriteOutcome {
    this.sub = 0;
    this.dirty = false;
    const eventsBefore = this.events.length;
    try {
      // A txn runs in a child transaction: should a request error still come after some of its
      // writes (the pre-checks are meant to prevent it), only this request is undone. Every
      // member applies the same entry, so letting it stop the member would stop them all, and
      // again at every restart.
      const result = 'txn' in write ? this.t.env.transactionSync(() => this.dispatch(write), WRITE_TXN_FLAGS) : this.dispatch(write);
      if (this.sub > 0) this.state.mainRevision += 1n;
      return { ok: true, result, revision: this.state.mainRevision };
    } catch (error) {
      if (!(error instanceof CairnError) || (this.dirty && !('txn' in write))) throw error;
      this.events.length = eventsBefore;
      this.sub = 0;
      return { ok: false, error, revision: this.state.mainRevision };
    }
  }

  /** Persists the counters this batch moved; called once, last, inside the transaction. */
  writeMeta(before: BatchState, appliedIndex?: bigint): void {
    if (this.state.mainRevision !== before.mainRevision) writeMetaU64(this.t, META.revision, this.state.mainRevision);
    if (appliedIndex !== undefined) writeMetaU64(this.t, META.applied, appliedIndex);
  }

  private dispatch(write: WriteRequest): WriteResult {
    if ('put' in write) {
      checkPutRequest(write.put, this.limits);
      this.checkLease(write.put.lease ?? 0n);
      return { put: this.put(write.put) };
    }
    if ('deleteRange' in write) {
      checkDeleteRequest(write.deleteRange, this.limits);
      return { deleteRange: this.deleteRange(write.deleteRange) };
    }
    if ('txn' in write) {
      checkTxnRequest(write.txn, this.limits);
      return { txn: this.txn(write.txn) };
    }
    this.compact(write.compaction.revision);
    return { compaction: {} };
  }

  private checkLease(lease: bigint): void {
    if (lease !== 0n && !(this.leaseExists?.(lease) ?? false)) throw new CairnError('LeaseNotFound');
  }

  private revisionKey(main: bigint, sub: number): Buffer {
    const { buf, view } = this.revScratch.take(REVISION_BYTES);
    view.setBigUint64(0, main);
    view.setUint32(8, sub);
    return buf;
  }

  private nextSub(): number {
    if (this.sub >= MAX_SUB_REVISION) throw new Error('mvcc: too many changes in one revision');
    this.dirty = true;
    return this.sub++;
  }

  private put(req: PutRequest): PutResult {
    const old = this.t.latest.get(req.key as Buffer);
    if ((req.ignoreValue || req.ignoreLease) && old === undefined) throw new CairnError('KeyNotFound');
    const prev = old === undefined ? undefined : decodeLatest(req.key, old);
    const value = req.ignoreValue && prev ? prev.value : req.value;
    const lease = req.ignoreLease && prev ? prev.lease : req.lease ?? 0n;
    this.writePut(req.key, value, lease, old, prev);
    return req.prevKv && prev ? { prevKv: prev } : {};
  }

  /** The previous change of a key with no live record: its tombstone, if history remains. */
  private previousOfDead(key: Bytes): RevisionRef {
    const grave = this.t.graveyard.get(key as Buffer);
    if (grave === undefined) return NO_REVISION;
    this.t.graveyard.remove(key as Buffer);
    return decodeGrave(grave).tomb;
  }

  private writePut(key: Bytes, value: Bytes, lease: bigint, old: Buffer | undefined, prev: KeyValue | undefined): void {
    const main = this.state.mainRevision + 1n;
    const sub = this.nextSub();
    const previous = old === undefined ? this.previousOfDead(key) : latestMod(old);
    const createRevision = prev?.createRevision ?? main;
    const version = (prev?.version ?? 0n) + 1n;
    this.t.latest.put(key as Buffer, encodeLatestInto(this.latestScratch, {
      createRevision, modMain: main, modSub: sub, version, lease, prev: previous, value,
    }));
    this.t.revs.put(this.revisionKey(main, sub), encodeVersionInto(this.versionScratch, {
      tombstone: false, createRevision, version, lease, prev: previous, key, value,
    }));
    const oldLease = prev?.lease ?? 0n;
    if (oldLease !== lease) {
      if (oldLease !== 0n) this.t.leaseKeys.remove(leaseKey(oldLease, key));
      if (lease !== 0n) this.t.leaseKeys.put(leaseKey(lease, key), EMPTY);
    }
    const kv: KeyValue = { key, createRevision, modRevision: main, version, value, lease };
    this.events.push(prev ? { type: 'PUT', kv, prevKv: prev } : { type: 'PUT', kv });
  }

  private deleteRange(req: DeleteRangeRequest): DeleteRangeResult {
    const span = spanOf(req.key, req.rangeEnd);
    const doomed: Array<{ key: Buffer; record: Buffer }> = [];
    if (span.kind === 'single') {
      const record = this.t.latest.get(req.key as Buffer);
      if (record !== undefined) doomed.push({ key: req.key as Buffer, record });
    } else if (!spanIsEmpty(span)) {
      // Collect first: the loop below rewrites the table the cursor would walk.
      for (const { key, value } of this.t.latest.getRange({ start: span.key as Buffer, end: spanEnd(span) as Buffer | undefined })) {
        doomed.push({ key: key as Buffer, record: value });
      }
    }
    const prevKvs: KeyValue[] = [];
    for (const { key, record } of doomed) {
      const prev = this.writeDelete(key, record);
      if (req.prevKv) prevKvs.push(prev);
    }
    return { deleted: BigInt(doomed.length), prevKvs };
  }

  private writeDelete(key: Buffer, record: Buffer): KeyValue {
    const prev = decodeLatest(key, record);
    const previous = latestMod(record);
    const main = this.state.mainRevision + 1n;
    const sub = this.nextSub();
    this.t.latest.remove(key);
    this.t.graveyard.put(key, encodeGrave({ tomb: { main, sub }, prev: previous }));
    this.t.revs.put(this.revisionKey(main, sub), encodeVersionInto(this.versionScratch, {
      tombstone: true, createRevision: 0n, version: 0n, lease: 0n, prev: previous, key, value: EMPTY,
    }));
    if (prev.lease !== 0n) this.t.leaseKeys.remove(leaseKey(prev.lease, key));
    const kv: KeyValue = { key, createRevision: 0n, modRevision: main, version: 0n, value: EMPTY, lease: 0n };
    this.events.push({ type: 'DELETE', kv, prevKv: prev });
    return prev;
  }

  private txn(req: TxnRequest): TxnResult {
    const plan = this.plan(req);
    this.checkPlan(plan);
    return this.execute(plan);
  }

  private plan(req: TxnRequest): TxnPlan {
    const succeeded = comparesHold(this.t, req.compare);
    const ops = succeeded ? req.success : req.failure;
    const nested: TxnPlan[] = [];
    for (const op of ops) if ('txn' in op) nested.push(this.plan(op.txn));
    return { succeeded, ops, nested };
  }

  /** etcd's pre-apply checks of the chosen branches, against the state before the txn: every
   * put along the chosen path first, then every range (so a txn with both a bad put and a bad
   * read fails on the put, as in etcd). */
  private checkPlan(plan: TxnPlan): void {
    this.checkPlanPuts(plan);
    this.checkPlanRanges(plan);
  }

  /**
   * `trail`: the writes of the path so far, in execution order. A put with ignore_value or
   * ignore_lease needs its key before the txn (etcd's check) and still there when it runs: a
   * delete earlier in the same txn makes etcd 3.4 panic mid-txn; Cairn refuses the whole txn
   * with "key not found" before writing anything (a failure half way would leave half a txn).
   */
  private checkPlanPuts(plan: TxnPlan, trail: TxnTrail[] = []): void {
    let nestedAt = 0;
    for (const op of plan.ops) {
      if ('put' in op) {
        const needsKey = op.put.ignoreValue || op.put.ignoreLease;
        if (needsKey && (this.t.latest.get(op.put.key as Buffer) === undefined || !stillThere(trail, op.put.key))) {
          throw new CairnError('KeyNotFound');
        }
        this.checkLease(op.put.lease ?? 0n);
        trail.push({ put: op.put.key });
      } else if ('deleteRange' in op) {
        trail.push({ deleted: spanOf(op.deleteRange.key, op.deleteRange.rangeEnd) });
      } else if ('txn' in op) {
        this.checkPlanPuts(plan.nested[nestedAt++], trail);
      }
    }
  }

  private checkPlanRanges(plan: TxnPlan): void {
    let nestedAt = 0;
    for (const op of plan.ops) {
      if ('range' in op) {
        checkReadRevision(op.range.revision ?? 0n, { currentRevision: this.state.mainRevision, compactRevision: this.state.compactRevision });
      } else if ('txn' in op) {
        this.checkPlanRanges(plan.nested[nestedAt++]);
      }
    }
  }

  private execute(plan: TxnPlan): TxnResult {
    let nestedAt = 0;
    const responses: ResponseOp[] = [];
    for (const op of plan.ops) {
      if ('range' in op) {
        const currentRevision = this.state.mainRevision + (this.sub > 0 ? 1n : 0n);
        responses.push({ range: executeRange(this.t, op.range, { currentRevision, compactRevision: this.state.compactRevision }) });
      } else if ('put' in op) {
        responses.push({ put: this.put(op.put) });
      } else if ('deleteRange' in op) {
        responses.push({ deleteRange: this.deleteRange(op.deleteRange) });
      } else {
        responses.push({ txn: this.execute(plan.nested[nestedAt++]) });
      }
    }
    return { succeeded: plan.succeeded, responses };
  }

  private compact(revision: bigint): void {
    if (revision > this.state.mainRevision) throw new CairnError('FutureRev');
    // A store never compacted holds -1 (as etcd), so compacting at 0 succeeds once, as a no-op.
    if (revision <= this.state.compactRevision) throw new CairnError('Compacted');
    this.state.compactRevision = revision;
    writeMetaU64(this.t, META.compact, revision);
    writeMetaU64(this.t, META.compactTarget, revision);
    this.compactionRequested = true;
  }
}
