/**
 * The apply step for a batch of proposed requests that may mix key-space writes, lease
 * requests, alarm changes and auth changes. Lease requests take effect in log order: a put sees
 * a lease granted before it and not one revoked before it; a revoke deletes every key attached to the lease at that point, as
 * ONE write (a txn of deletes, so one revision and one DELETE event per key), and bumps nothing
 * when no key is attached. Grants and checkpoints never bump the revision.
 *
 * Runs of key-space writes go to the store in one `applyBatch` with the server table changes
 * (leases, alarms, auth) made so far written inside it (`inTxn`). A batch is cut into several such runs only where order
 * demands it: before a revoke that follows a key-space write (its attached keys must be read
 * after that write), and before a grant of a lease that an earlier write in the run names. All
 * runs of one batch execute synchronously inside ONE outer LMDB write transaction (each run is a
 * child transaction; reads inside see the earlier runs), so the batch, its lease state and its
 * applied index commit together or not at all: a restart never finds half a batch applied.
 *
 * While a NOSPACE alarm is raised (alarms.ts), writes that add data and lease grants are refused
 * with etcd's "database space exceeded", in log order. Each client write is checked against the auth state of its
 * place in the log before it joins a run (auth/request-permissions.ts), and a refused one is
 * answered with its error and never reaches the store.
 *
 * Must never reorder requests, never read attached keys before the writes that precede the revoke
 * are applied, never throw inside the outer transaction after a run was applied, and never
 * publish events (the caller does).
 */
import { CairnError } from '../errors/errors.js';
import type { AuthStore, AuthTable } from '../auth/auth-store.js';
import { checkLeaseKeys, checkWrite } from '../auth/request-permissions.js';
import type { Lessor } from '../lease/lessor.js';
import type { LeaseTable } from '../lease/lease-record.js';
import type { Event, RequestOp, WriteOutcome, WriteRequest } from '../mvcc/types.js';
import type { AlarmTable } from './alarms.js';
import {
  isAlarmRequest, isAuthRequest, isLeaseRequest, type AlarmRequest, type AuthRequest, type LeaseRequest, type RequestCaller,
  type ServerOutcome, type ServerRequest, type ServerResult,
} from './requests.js';

/** The auth state and its table, when the member has auth (every real member does). */
export interface AuthParts {
  store: AuthStore;
  table: AuthTable;
}

/** The server's state beside leases that the apply step keeps in step with the log. */
export interface ApplyParts {
  alarms?: AlarmTable;
  auth?: AuthParts | null;
}

export interface ApplyBatchOptions {
  appliedIndex?: bigint;
  leaseExists?: (id: bigint) => boolean;
  inTxn?: () => void;
}

type StoreResult = { outcomes: WriteOutcome[]; events: Event[] };

/** What the apply step needs of the store (MvccStore has it; tests pass a fake). */
export interface ApplyStore {
  /** Must do its work synchronously (the promise only carries the result). */
  applyBatch(writes: WriteRequest[], opts?: ApplyBatchOptions): Promise<StoreResult> | StoreResult;
  keysOfLease(lease: bigint): Uint8Array[];
  readonly currentRevision: bigint;
}

/** Runs `fn` inside one write transaction of the store (identity for stores without one). */
export type OuterTransaction = <T>(fn: () => T) => T;

/** A change to a server table (leases, alarms, auth), written inside the next run's store transaction. */
type TableChange = () => void;

interface PendingWrite {
  index: number;
  write: WriteRequest;
  /** The delete-keys write of a revoke: its outcome becomes a leaseRevoke result. */
  revoke: boolean;
}

export interface AppliedBatch {
  outcomes: ServerOutcome[];
  events: Event[];
}

class BatchApplier {
  readonly outcomes: (ServerOutcome | undefined)[];
  readonly events: Event[] = [];
  /** Outcomes of lease requests whose revision is that of the writes before them. */
  private readonly leaseOutcomeIndexes: number[] = [];
  private pending: PendingWrite[] = [];
  private tableChanges: TableChange[] = [];
  private readonly runs: Array<{ batch: PendingWrite[]; result: Promise<StoreResult> | StoreResult }> = [];
  private readonly startRevision: bigint;

  constructor(
    private readonly store: ApplyStore,
    private readonly lessor: Lessor,
    private readonly table: LeaseTable,
    private readonly appliedIndex: bigint | undefined,
    size: number,
    private readonly alarms: AlarmTable | undefined,
    private readonly auth: AuthParts | null,
  ) {
    this.outcomes = new Array(size);
    this.startRevision = store.currentRevision;
  }

  async run(requests: ServerRequest[], transaction: OuterTransaction): Promise<AppliedBatch> {
    transaction(() => {
      for (let i = 0; i < requests.length; i++) {
        const r = requests[i];
        if (isAuthRequest(r)) this.authChange(i, r);
        else if (isLeaseRequest(r)) this.lease(i, r);
        else if (isAlarmRequest(r)) this.alarm(i, r);
        // As etcd's capped applier (outermost): under NOSPACE, what adds data is refused first.
        else if (this.alarms?.noSpace && addsData(r)) this.settle(i, () => { throw new CairnError('NoSpace'); });
        else if (this.permitted(i, r)) this.pending.push({ index: i, write: r, revoke: false });
      }
      // Always at least one run: it records the applied index even for a batch of grants only.
      if (this.runs.length === 0 || this.pending.length > 0 || this.tableChanges.length > 0) this.flush();
    });
    for (const { batch, result } of this.runs) this.collect(batch, await result);
    this.fillLeaseRevisions();
    return { outcomes: this.outcomes as ServerOutcome[], events: this.events };
  }

  /** An auth change takes effect at once for the requests after it in the batch (log order). */
  private authChange(i: number, r: AuthRequest & { caller?: RequestCaller }): void {
    if (!this.auth) {
      this.settle(i, () => { throw new CairnError('Internal'); });
      return;
    }
    const { store, table } = this.auth;
    this.settle(i, () => {
      const changes = store.apply(r.auth, r.caller ? r.caller.user : undefined);
      if (changes.length > 0) this.tableChanges.push(() => table.write(changes));
      return { auth: {} };
    });
  }

  /**
   * A client's key-space write is checked against the auth state at its place in the log, so a
   * revoke racing a put is decided in log order. A refused write gets its error and is not run.
   */
  private permitted(i: number, r: WriteRequest & { caller?: RequestCaller }): boolean {
    if (!this.auth || !r.caller || !this.auth.store.enabled) return true;
    // The keys already attached to a lease must be read after the earlier writes of the batch.
    if (writeNamesAnyLease(r) && this.pending.some((p) => !p.revoke)) this.flush();
    try {
      checkWrite(this.auth.store, r.caller.user, r, (id) => this.store.keysOfLease(id));
      return true;
    } catch (e) {
      this.settle(i, () => { throw e; });
      return false;
    }
  }

  private lease(i: number, r: LeaseRequest & { caller?: RequestCaller }): void {
    if ('leaseGrant' in r) {
      const { id, ttlSec } = r.leaseGrant;
      if (this.pending.some((p) => !p.revoke && writeNamesLease(p.write, id))) this.flush();
      this.settle(i, () => {
        if (this.alarms?.noSpace) throw new CairnError('NoSpace');
        const rec = this.lessor.applyGrant(id, ttlSec);
        this.tableChanges.push(() => this.table.put(rec));
        return { leaseGrant: { id, ttlSec: rec.ttlSec } };
      });
    } else if ('leaseRevoke' in r) {
      this.revoke(i, r.leaseRevoke.id, r.caller);
    } else {
      this.settle(i, () => {
        for (const c of r.leaseCheckpoint.checkpoints) {
          const rec = this.lessor.applyCheckpoint(c.id, c.remainingTtlSec);
          if (rec) this.tableChanges.push(() => this.table.put(rec));
        }
        return { leaseCheckpoint: {} };
      });
    }
  }

  private revoke(i: number, id: bigint, caller: RequestCaller | undefined): void {
    if (!this.lessor.has(id)) {
      this.settle(i, () => { throw new CairnError('LeaseNotFound'); });
      return;
    }
    // Attached keys must be read after every earlier key-space write of the batch. Pending
    // deletes of other revokes do not matter: a key belongs to one lease at a time.
    if (this.pending.some((p) => !p.revoke)) this.flush();
    const keys = this.store.keysOfLease(id);
    if (caller && this.auth) {
      try {
        checkLeaseKeys(this.auth.store, caller.user, id, () => keys);
      } catch (e) {
        this.settle(i, () => { throw e; });
        return;
      }
    }
    this.lessor.applyRevoke(id);
    this.tableChanges.push(() => this.table.remove(id));
    if (keys.length === 0) {
      this.settle(i, () => ({ leaseRevoke: {} }));
      return;
    }
    const success: RequestOp[] = keys.map((key) => ({ deleteRange: { key } }));
    this.pending.push({ index: i, write: { txn: { compare: [], success, failure: [] } }, revoke: true });
  }

  /** Alarms change in log order: a write after a NOSPACE activation in the same batch is refused. */
  private alarm(i: number, r: AlarmRequest): void {
    this.settle(i, () => {
      const alarms = this.alarms;
      if (!alarms) throw new Error('apply: an alarm request reached a member without an alarm table');
      const { action, memberId, alarm } = r.alarm;
      const change = action === 'activate' ? alarms.activate(memberId, alarm) : alarms.deactivate(memberId, alarm);
      this.tableChanges.push(change.write);
      return { alarm: { alarms: change.alarms } };
    });
  }

  private settle(i: number, apply: () => ServerResult): void {
    try {
      this.outcomes[i] = { ok: true, result: apply(), revision: 0n };
    } catch (e) {
      this.outcomes[i] = { ok: false, error: e as Error, revision: 0n };
    }
    this.leaseOutcomeIndexes.push(i);
  }

  /** Applies the pending run now (synchronously, inside the outer transaction). */
  private flush(): void {
    const batch = this.pending;
    const changes = this.tableChanges;
    this.pending = [];
    this.tableChanges = [];
    let applied = false;
    const result = this.store.applyBatch(batch.map((p) => p.write), {
      appliedIndex: this.appliedIndex,
      leaseExists: (id) => this.lessor.has(id),
      inTxn: () => { this.writeTable(changes); applied = true; },
    });
    if (!applied) {
      // The store refused the run (storage failure): abort the whole batch rather than commit
      // the runs around it. The caller treats a failed apply as fatal.
      void Promise.resolve(result).catch(() => undefined);
      throw new Error('apply: the store failed a run of the batch; nothing of the batch was committed');
    }
    this.runs.push({ batch, result });
  }

  private collect(batch: PendingWrite[], { outcomes, events }: StoreResult): void {
    for (let j = 0; j < batch.length; j++) {
      const o = outcomes[j];
      const p = batch[j];
      this.outcomes[p.index] = p.revoke && o.ok ? { ok: true, result: { leaseRevoke: {} }, revision: o.revision } : o;
    }
    for (const e of events) this.events.push(e);
  }

  private writeTable(changes: TableChange[]): void {
    for (const write of changes) write();
  }

  /** A grant's or checkpoint's header carries the revision of the writes applied before it. */
  private fillLeaseRevisions(): void {
    const isLease = new Set(this.leaseOutcomeIndexes);
    let revision = this.startRevision;
    for (let i = 0; i < this.outcomes.length; i++) {
      const o = this.outcomes[i]!;
      if (isLease.has(i)) o.revision = revision;
      else if (o.revision > revision) revision = o.revision;
    }
  }
}

const noOuterTransaction: OuterTransaction = (fn) => fn();

/** Applies one batch of proposed requests in order; see the module comment. */
export function applyServerBatch(
  store: ApplyStore, lessor: Lessor, table: LeaseTable, requests: ServerRequest[], appliedIndex?: bigint,
  transaction: OuterTransaction = noOuterTransaction, parts: ApplyParts = {},
): Promise<AppliedBatch> {
  return new BatchApplier(store, lessor, table, appliedIndex, requests.length, parts.alarms, parts.auth ?? null).run(requests, transaction);
}

/** What etcd's capped applier refuses under NOSPACE: a put, or a txn with a put on either branch. */
export function addsData(w: WriteRequest): boolean {
  return dataCostBytes(w) > 0;
}

/** etcd's quota: the bytes a put is taken to add beyond its key and value. */
const PUT_COST_OVERHEAD_BYTES = 256;

/** The bytes a write may add to the store, as etcd's quota counts them (0: it adds nothing). */
export function dataCostBytes(w: WriteRequest): number {
  if ('put' in w) return w.put.key.length + w.put.value.length + PUT_COST_OVERHEAD_BYTES;
  if ('txn' in w) return opCostBytes({ txn: w.txn });
  return 0;
}

function opCostBytes(op: RequestOp): number {
  if ('put' in op) return op.put.key.length + op.put.value.length + PUT_COST_OVERHEAD_BYTES;
  if (!('txn' in op)) return 0;
  let bytes = 0;
  for (const o of op.txn.success) bytes += opCostBytes(o);
  for (const o of op.txn.failure) bytes += opCostBytes(o);
  return bytes;
}

function opNamesLease(op: RequestOp, id: bigint): boolean {
  if ('put' in op) return op.put.lease === id;
  if ('txn' in op) return op.txn.success.some((o) => opNamesLease(o, id)) || op.txn.failure.some((o) => opNamesLease(o, id));
  return false;
}

function opNamesAnyLease(op: RequestOp): boolean {
  if ('put' in op) return op.put.lease !== undefined && op.put.lease !== 0n;
  if ('txn' in op) return op.txn.success.some(opNamesAnyLease) || op.txn.failure.some(opNamesAnyLease);
  return false;
}

function writeNamesAnyLease(w: WriteRequest): boolean {
  return 'compaction' in w ? false : opNamesAnyLease(w as RequestOp);
}

function writeNamesLease(w: WriteRequest, id: bigint): boolean {
  if ('put' in w) return w.put.lease === id;
  if ('txn' in w) return opNamesLease({ txn: w.txn }, id);
  return false;
}

/**
 * The proposer's apply function: batches may be handed over while an earlier one is still
 * between two of its store transactions, so each waits for the one before (log order).
 */
export function serialApplier(store: ApplyStore, lessor: Lessor, table: LeaseTable, transaction?: OuterTransaction, parts: ApplyParts = {}):
  (requests: ServerRequest[], appliedIndex: bigint) => Promise<AppliedBatch> {
  let tail: Promise<unknown> = Promise.resolve();
  return (requests, appliedIndex) => {
    const run = tail.then(() => applyServerBatch(store, lessor, table, requests, appliedIndex, transaction, parts));
    tail = run.catch(() => undefined);
    return run;
  };
}
