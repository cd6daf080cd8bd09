/**
 * The member's lease operations, as the API calls them: grant, revoke, keep-alive, time-to-live,
 * list. Grants, revokes and checkpoints are proposed through the same seam as key-space writes
 * (so a cluster replicates them unchanged); keep-alive renews on the primary only, in memory.
 * The primary's two timers live here: expiry (propose revokes for expired leases, in bounded
 * batches with a bound on revokes in flight, so 100,000 leases expiring at once never stall the
 * server) and checkpoints (propose remaining TTLs so a restart does not extend leases much).
 *
 * Knows nothing of HTTP. Must never expire a lease except by proposing its revoke.
 */
import type { Logger } from 'pino';
import { CairnError } from '../errors/errors.js';
import { LeaseIdGenerator } from '../lease/lease-id.js';
import { Lessor } from '../lease/lessor.js';
import type { RequestCaller, ServerOutcome, ServerRequest } from './requests.js';

export interface LeaseTimers {
  /** How often the primary looks for expired leases (etcd: 500 ms). */
  expiryCheckIntervalMs: number;
  /** Revokes proposed per check. */
  maxRevokesPerCheck: number;
  /** Revokes proposed and not yet answered; no new ones past this. */
  maxRevokesInFlight: number;
  /** How often due checkpoints are gathered. */
  checkpointCheckIntervalMs: number;
  /** Leases per checkpoint proposal (etcd's maxLeaseCheckpointBatchSize). */
  maxCheckpointsPerProposal: number;
}

export const DEFAULT_LEASE_TIMERS: LeaseTimers = {
  expiryCheckIntervalMs: 100,
  maxRevokesPerCheck: 500,
  maxRevokesInFlight: 2_000,
  checkpointCheckIntervalMs: 1_000,
  maxCheckpointsPerProposal: 1_000,
};

/** Tries for a server-picked ID that collides with a lease granted meanwhile. */
const GRANT_ID_ATTEMPTS = 3;

export interface LeaseHeader<T> {
  revision: bigint;
  result: T;
}

export interface TimeToLiveResult {
  id: bigint;
  /** -1n: no such lease (etcd answers that, not an error). */
  ttlSec: bigint;
  grantedTtlSec: bigint;
  keys: Uint8Array[];
}

/**
 * Where keep-alives and time-to-live go when this member is not the primary: the leader, over
 * the peer network (etcd's followers forward LeaseRenew and LeaseTimeToLive the same way). Only
 * the primary's in-memory expiry is current; a follower's own view of a TTL is stale.
 */
export interface LeaseForwarder {
  keepAlive(id: bigint): Promise<bigint>;
  timeToLive(id: bigint, withKeys: boolean): Promise<TimeToLiveResult>;
}

export interface LeaseServiceDeps {
  propose(req: ServerRequest): Promise<ServerOutcome>;
  keysOfLease(id: bigint): Uint8Array[];
  currentRevision(): bigint;
  logger: Logger;
}

export class LeaseService {
  private readonly ids: LeaseIdGenerator;
  private readonly timers: LeaseTimers;
  private revokesInFlight = 0;
  private expiryTimer: NodeJS.Timeout | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private forwarder: LeaseForwarder | null = null;

  constructor(
    readonly lessor: Lessor,
    private readonly deps: LeaseServiceDeps,
    memberId: bigint,
    timers: Partial<LeaseTimers> = {},
  ) {
    this.ids = new LeaseIdGenerator(memberId);
    this.timers = { ...DEFAULT_LEASE_TIMERS, ...timers };
  }

  /** Becomes the primary: extends every lease by `extendMs` and starts the timers. Called on
   * every leadership gain; a repeated call restarts the timers rather than doubling them. */
  startPrimary(extendMs: number): void {
    clearInterval(this.expiryTimer);
    clearInterval(this.checkpointTimer);
    this.lessor.promote(extendMs);
    this.expiryTimer = setInterval(() => this.expireSome(), this.timers.expiryCheckIntervalMs);
    this.checkpointTimer = setInterval(() => this.checkpointSome(), this.timers.checkpointCheckIntervalMs);
    this.expiryTimer.unref();
    this.checkpointTimer.unref();
  }

  /** No longer the primary (or stopping): leases stop expiring here until the next promotion. */
  stop(): void {
    clearInterval(this.expiryTimer);
    clearInterval(this.checkpointTimer);
    this.expiryTimer = this.checkpointTimer = undefined;
    this.lessor.demote();
  }

  async grant(ttlSec: bigint, requestedId: bigint): Promise<LeaseHeader<{ id: bigint; ttlSec: bigint }>> {
    Lessor.checkGrant(ttlSec);
    for (let attempt = 1; ; attempt++) {
      const id = requestedId !== 0n ? requestedId : this.freshId();
      const outcome = await this.deps.propose({ leaseGrant: { id, ttlSec } });
      if (outcome.ok && 'leaseGrant' in outcome.result) return { revision: outcome.revision, result: outcome.result.leaseGrant };
      const err = outcome.ok ? new CairnError('Internal') : outcome.error;
      const retry = requestedId === 0n && attempt < GRANT_ID_ATTEMPTS && err instanceof CairnError && err.kind === 'LeaseExist';
      if (!retry) throw err;
    }
  }

  /** `caller`: a client's revoke needs WRITE on the attached keys (checked at apply). */
  async revoke(id: bigint, caller?: RequestCaller): Promise<LeaseHeader<Record<string, never>>> {
    const outcome = await this.deps.propose(caller ? { leaseRevoke: { id }, caller } : { leaseRevoke: { id } });
    if (!outcome.ok) throw outcome.error;
    return { revision: outcome.revision, result: {} };
  }

  /** Sends keep-alives and time-to-live to the primary while this member is not it. */
  forwardTo(forwarder: LeaseForwarder): void {
    this.forwarder = forwarder;
  }

  /** etcd's keep-alive: the TTL granted again, or 0n when the lease is gone. On the primary. */
  async keepAlive(id: bigint): Promise<LeaseHeader<{ id: bigint; ttlSec: bigint }>> {
    if (!this.lessor.isPrimary && this.forwarder) {
      const ttlSec = await this.forwarder.keepAlive(id);
      return { revision: this.deps.currentRevision(), result: { id, ttlSec } };
    }
    return this.keepAliveHere(id);
  }

  /** A keep-alive renewed by this member's lessor (the primary's, or the only one there is). */
  async keepAliveHere(id: bigint): Promise<LeaseHeader<{ id: bigint; ttlSec: bigint }>> {
    let ttlSec = 0n;
    try {
      const r = this.lessor.renew(id);
      ttlSec = r.ttlSec;
      if (r.clearCheckpoint) {
        // A restart must not bring back the older, shorter remaining TTL.
        const outcome = await this.deps.propose({ leaseCheckpoint: { checkpoints: [{ id, remainingTtlSec: 0n }] } });
        if (!outcome.ok) throw outcome.error;
      }
    } catch (e) {
      if (!(e instanceof CairnError && e.kind === 'LeaseNotFound')) throw e;
    }
    return { revision: this.deps.currentRevision(), result: { id, ttlSec } };
  }

  /** The remaining TTL and attached keys, as the primary sees them. */
  async timeToLive(id: bigint, withKeys: boolean): Promise<LeaseHeader<TimeToLiveResult>> {
    if (!this.lessor.isPrimary && this.forwarder) {
      return { revision: this.deps.currentRevision(), result: await this.forwarder.timeToLive(id, withKeys) };
    }
    return this.timeToLiveHere(id, withKeys);
  }

  timeToLiveHere(id: bigint, withKeys: boolean): LeaseHeader<TimeToLiveResult> {
    const revision = this.deps.currentRevision();
    const t = this.lessor.timeToLive(id);
    if (!t) return { revision, result: { id, ttlSec: -1n, grantedTtlSec: 0n, keys: [] } };
    const keys = withKeys ? this.deps.keysOfLease(id) : [];
    return { revision, result: { id, ttlSec: t.remainingSec, grantedTtlSec: t.grantedTtlSec, keys } };
  }

  leases(): LeaseHeader<bigint[]> {
    return { revision: this.deps.currentRevision(), result: this.lessor.list() };
  }

  private freshId(): bigint {
    let id = this.ids.next();
    while (this.lessor.has(id)) id = this.ids.next();
    return id;
  }

  private expireSome(): void {
    const room = Math.min(this.timers.maxRevokesPerCheck, this.timers.maxRevokesInFlight - this.revokesInFlight);
    if (room <= 0) return;
    for (const id of this.lessor.takeExpired(room)) {
      this.revokesInFlight++;
      this.deps.propose({ leaseRevoke: { id } })
        .then((o) => {
          if (!o.ok && !(o.error instanceof CairnError && o.error.kind === 'LeaseNotFound')) {
            this.deps.logger.warn({ lease: id.toString(16), err: o.error.message }, 'lease expiry revoke failed; will retry');
          }
        }, (e: Error) => this.deps.logger.warn({ lease: id.toString(16), err: e.message }, 'lease expiry revoke failed; will retry'))
        .finally(() => { this.revokesInFlight--; });
    }
  }

  private checkpointSome(): void {
    const due = this.lessor.takeCheckpointsDue(this.timers.maxCheckpointsPerProposal);
    if (due.length === 0) return;
    this.deps.propose({ leaseCheckpoint: { checkpoints: due } })
      .catch((e: Error) => this.deps.logger.warn({ err: e.message }, 'lease checkpoint failed'))
      .finally(() => { for (const c of due) this.lessor.checkpointSettled(c.id); });
  }
}
