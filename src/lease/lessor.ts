/**
 * The lessor: every lease's TTL, its expiry on the primary (the member that expires leases: the
 * leader in a cluster, the only member in single-node mode), the expiry and checkpoint queues.
 *
 * Two kinds of callers. The apply step calls `applyGrant`, `applyRevoke`, `applyCheckpoint` in
 * log order, the same on every member; they return the record to persist, which the caller writes
 * in the same transaction as the key space. The primary's timers call `renew`, `takeExpired`,
 * `takeCheckpointsDue`, `promote`, `demote`; those change only in-memory timing, never state that
 * other members must share (revokes and checkpoints go through the log).
 *
 * Must never touch storage, the key space or a timer itself, and never read the wall clock: time
 * comes from the injected monotonic `nowMs`. Attached keys are the store's (keysOfLease).
 */
import { CairnError } from '../errors/errors.js';
import { ExpiryQueue, type DueEntry } from './expiry-queue.js';
import type { LeaseRecord } from './lease-record.js';

/** etcd's MaxLeaseTTL: a grant above it fails with `too large lease TTL`. */
export const MAX_LEASE_TTL_SEC = 9_000_000_000n;
/** etcd's default lease checkpoint interval. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60_000;
/** An expired lease whose revoke did not land is offered for revoke again after this. */
export const EXPIRED_RETRY_MS = 3_000;
/** Rebuild a queue once stale entries exceed live leases by this much. */
const QUEUE_SLACK_ENTRIES = 1_024;

/** etcd's minimum TTL: 1.5 election timeouts (in whole heartbeats), rounded up to seconds. */
export function minLeaseTtlSec(electionTimeoutMs: number, heartbeatIntervalMs: number): bigint {
  const electionTicks = Math.floor(electionTimeoutMs / heartbeatIntervalMs);
  const minTtlMs = Math.floor((3 * electionTicks) / 2) * heartbeatIntervalMs;
  return BigInt(Math.ceil(minTtlMs / 1000));
}

export interface LessorOptions {
  minTtlSec: bigint;
  /** Monotonic milliseconds; default performance.now(). */
  nowMs?: () => number;
  checkpointIntervalMs?: number;
}

interface Lease {
  readonly id: bigint;
  readonly ttlSec: bigint;
  /** Last checkpointed remaining TTL applied from the log; 0n: none. */
  remainingTtlSec: bigint;
  /** Infinity while this member is not the primary. */
  expiryMs: number;
  /** The live entry of this lease in the expiry queue (others are stale). */
  expiryDueMs: number;
  /** The live entry in the checkpoint queue; Infinity: none. */
  checkpointDueMs: number;
  checkpointsInFlight: number;
}

export interface RenewResult {
  ttlSec: bigint;
  /** The lease carries a checkpointed remaining TTL that the renewal made stale: the caller must
   * propose a checkpoint of 0 (restore with the full TTL) before answering. */
  clearCheckpoint: boolean;
}

export interface TimeToLive {
  grantedTtlSec: bigint;
  /** Whole seconds left, rounded down (as etcd). */
  remainingSec: bigint;
}

export class Lessor {
  readonly minTtlSec: bigint;
  private readonly nowMs: () => number;
  private readonly checkpointIntervalMs: number;
  private readonly leases = new Map<bigint, Lease>();
  private readonly expiryQueue = new ExpiryQueue();
  private readonly checkpointQueue = new ExpiryQueue();
  private primary = false;

  constructor(opts: LessorOptions) {
    this.minTtlSec = opts.minTtlSec;
    this.nowMs = opts.nowMs ?? (() => performance.now());
    this.checkpointIntervalMs = opts.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
  }

  get isPrimary(): boolean {
    return this.primary;
  }

  get size(): number {
    return this.leases.size;
  }

  has(id: bigint): boolean {
    return this.leases.has(id);
  }

  // ---- apply side: deterministic, in log order ----

  /** Checked before proposing, so a refused grant never enters the log. */
  static checkGrant(ttlSec: bigint): void {
    if (ttlSec > MAX_LEASE_TTL_SEC) throw new CairnError('LeaseTTLTooLarge');
  }

  applyGrant(id: bigint, requestedTtlSec: bigint): LeaseRecord {
    if (id === 0n) throw new CairnError('LeaseNotFound');
    if (this.leases.has(id)) throw new CairnError('LeaseExist');
    const ttlSec = requestedTtlSec < this.minTtlSec ? this.minTtlSec : requestedTtlSec;
    const lease: Lease = {
      id, ttlSec, remainingTtlSec: 0n, expiryMs: Infinity, expiryDueMs: Infinity, checkpointDueMs: Infinity, checkpointsInFlight: 0,
    };
    this.leases.set(id, lease);
    if (this.primary) this.refresh(lease, 0);
    return recordOf(lease);
  }

  /** Removes the lease; false when there was none. The caller deletes the attached keys. */
  applyRevoke(id: bigint): boolean {
    return this.leases.delete(id);
  }

  /** Records a checkpointed remaining TTL. The primary's expiry is not moved: its in-memory
   * timing is the truth, and a renewal may have happened since the checkpoint was proposed. */
  applyCheckpoint(id: bigint, remainingTtlSec: bigint): LeaseRecord | undefined {
    const lease = this.leases.get(id);
    if (!lease) return undefined;
    lease.remainingTtlSec = remainingTtlSec < 0n ? 0n : remainingTtlSec;
    return recordOf(lease);
  }

  /** Forgets every lease and loads `records` (the store was replaced by a leader's snapshot).
   * Only a non-primary member does this: its leases do not expire until `promote`. */
  replaceAll(records: LeaseRecord[]): void {
    if (this.primary) this.demote();
    this.leases.clear();
    this.restore(records);
  }

  /** Loads persisted leases at startup; they do not expire until `promote`. */
  restore(records: LeaseRecord[]): void {
    for (const r of records) {
      this.leases.set(r.id, {
        id: r.id, ttlSec: r.ttlSec, remainingTtlSec: r.remainingTtlSec,
        expiryMs: Infinity, expiryDueMs: Infinity, checkpointDueMs: Infinity, checkpointsInFlight: 0,
      });
    }
  }

  // ---- primary side: in-memory timing ----

  /** Becomes the primary: every lease gets `extendMs` (an election timeout) on top of its
   * remaining TTL, so a change of primary never expires a lease early. */
  promote(extendMs: number): void {
    this.primary = true;
    this.expiryQueue.clear();
    this.checkpointQueue.clear();
    for (const lease of this.leases.values()) this.refresh(lease, extendMs);
  }

  demote(): void {
    this.primary = false;
    this.expiryQueue.clear();
    this.checkpointQueue.clear();
    for (const lease of this.leases.values()) {
      lease.expiryMs = lease.expiryDueMs = lease.checkpointDueMs = Infinity;
    }
  }

  /** Keep-alive: a fresh full TTL. An expired lease (revoke pending) counts as gone. */
  renew(id: bigint): RenewResult {
    if (!this.primary) throw new CairnError('NotLeader');
    const lease = this.leases.get(id);
    if (!lease || lease.expiryMs <= this.nowMs()) throw new CairnError('LeaseNotFound');
    const clearCheckpoint = lease.remainingTtlSec > 0n || lease.checkpointsInFlight > 0;
    this.refresh(lease, 0, true);
    return { ttlSec: lease.ttlSec, clearCheckpoint };
  }

  timeToLive(id: bigint): TimeToLive | undefined {
    const lease = this.leases.get(id);
    if (!lease) return undefined;
    const leftMs = lease.expiryMs === Infinity ? Number(effectiveTtlSec(lease)) * 1000 : lease.expiryMs - this.nowMs();
    return { grantedTtlSec: lease.ttlSec, remainingSec: BigInt(Math.trunc(leftMs / 1000)) };
  }

  /** Every lease ID, soonest expiry first (as etcd's LeaseLeases). */
  list(): bigint[] {
    return [...this.leases.values()].sort((a, b) => a.expiryMs - b.expiryMs).map((l) => l.id);
  }

  /** Up to `max` expired leases to revoke now. Each is offered again after EXPIRED_RETRY_MS if
   * it is still there (its revoke failed or is slow). */
  takeExpired(max: number): bigint[] {
    const now = this.nowMs();
    const out: bigint[] = [];
    while (out.length < max) {
      const top = this.expiryQueue.peek();
      if (!top || top.atMs > now) break;
      this.expiryQueue.pop();
      const lease = this.leases.get(top.id);
      if (!lease || lease.expiryDueMs !== top.atMs) continue; // stale entry
      out.push(lease.id);
      lease.expiryDueMs = now + EXPIRED_RETRY_MS;
      this.expiryQueue.push(lease.id, lease.expiryDueMs);
    }
    return out;
  }

  /** Up to `max` leases whose remaining TTL is due to be checkpointed through the log. Call
   * `checkpointSettled(id)` when each proposal is answered. */
  takeCheckpointsDue(max: number): Array<{ id: bigint; remainingTtlSec: bigint }> {
    const now = this.nowMs();
    const out: Array<{ id: bigint; remainingTtlSec: bigint }> = [];
    while (out.length < max) {
      const top = this.checkpointQueue.peek();
      if (!top || top.atMs > now) break;
      this.checkpointQueue.pop();
      const lease = this.leases.get(top.id);
      if (!lease || lease.checkpointDueMs !== top.atMs || lease.expiryMs <= now) continue;
      out.push({ id: lease.id, remainingTtlSec: BigInt(Math.ceil((lease.expiryMs - now) / 1000)) });
      lease.checkpointsInFlight += 1;
      this.scheduleCheckpoint(lease, now);
    }
    return out;
  }

  checkpointSettled(id: bigint): void {
    const lease = this.leases.get(id);
    if (lease && lease.checkpointsInFlight > 0) lease.checkpointsInFlight -= 1;
  }

  private refresh(lease: Lease, extendMs: number, renewal = false): void {
    const now = this.nowMs();
    const ttlSec = renewal ? lease.ttlSec : effectiveTtlSec(lease);
    lease.expiryMs = now + extendMs + Number(ttlSec) * 1000;
    lease.expiryDueMs = lease.expiryMs;
    this.expiryQueue.push(lease.id, lease.expiryDueMs);
    this.scheduleCheckpoint(lease, now);
    this.compactQueues();
  }

  private scheduleCheckpoint(lease: Lease, now: number): void {
    // A lease that ends before the next checkpoint gains nothing from one.
    if (lease.expiryMs - now <= this.checkpointIntervalMs) {
      lease.checkpointDueMs = Infinity;
      return;
    }
    lease.checkpointDueMs = now + this.checkpointIntervalMs;
    this.checkpointQueue.push(lease.id, lease.checkpointDueMs);
  }

  private compactQueues(): void {
    const limit = 2 * this.leases.size + QUEUE_SLACK_ENTRIES;
    if (this.expiryQueue.size > limit) this.expiryQueue.rebuild(this.liveEntries((l) => l.expiryDueMs));
    if (this.checkpointQueue.size > limit) this.checkpointQueue.rebuild(this.liveEntries((l) => l.checkpointDueMs));
  }

  private liveEntries(due: (l: Lease) => number): DueEntry[] {
    const out: DueEntry[] = [];
    for (const l of this.leases.values()) {
      const atMs = due(l);
      if (atMs !== Infinity) out.push({ id: l.id, atMs });
    }
    return out;
  }
}

function effectiveTtlSec(lease: Lease): bigint {
  return lease.remainingTtlSec > 0n ? lease.remainingTtlSec : lease.ttlSec;
}

function recordOf(lease: Lease): LeaseRecord {
  return { id: lease.id, ttlSec: lease.ttlSec, remainingTtlSec: lease.remainingTtlSec };
}
