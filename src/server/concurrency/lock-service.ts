/**
 * etcd's v3lock service (what `POST /v3/lock/lock` and `/v3/lock/unlock` call), done as etcd's
 * concurrency.Mutex does it, with this member's own txn, range and watch hub:
 *
 * - lock: one txn puts `name/<lease hex>` (empty value, attached to the lease) if it is absent,
 *   else reads it (the same lease locking again reuses its key), and reads the oldest key of the
 *   prefix. If that is ours, the lock is held. Otherwise wait until every key created before ours
 *   is deleted, watching only our direct predecessor each round. Waiters are thus served in
 *   create-revision order, and a holder whose lease expires loses the lock (its key goes).
 * - A lock without a lease gets a 60 s lease of the server's own that nobody keeps alive.
 * - A wait that ends without the lock (client gone, server stopping) deletes our key, as etcd's
 *   Mutex does, so the waiters behind us are not stuck behind a ghost.
 * - unlock: deletes the key it is given (nothing to check: a missing key is fine).
 *
 * Knows nothing of HTTP. Must never answer "locked" unless our key is the oldest of the prefix
 * and still exists; must never poll.
 */
import type { TxnResult } from '../../mvcc/types.js';
import type { ResponseHeader } from '../cairn-server.js';
import {
  contenderKey, contenderPrefix, currentKv, EMPTY_BYTES, firstCreated, prefixEnd, SESSION_LEASE_TTL_SEC, WaiterGate, waitDeletes,
  type ConcurrencyHost,
} from './wait-deletes.js';
import { CairnError } from '../../errors/errors.js';
import type { RequestCaller } from '../requests.js';

export interface LockLimits {
  /** Lock calls in progress on this member (waiting or about to); past it: TooManyRequests. */
  maxWaiters: number;
}

export const DEFAULT_LOCK_LIMITS: LockLimits = { maxWaiters: 10_000 };

export interface LockResult {
  header: ResponseHeader;
  /** The key that represents ownership: pass it to unlock. */
  key: Uint8Array;
}

export class LockService {
  private readonly gate: WaiterGate;

  constructor(private readonly host: ConcurrencyHost, limits: Partial<LockLimits> = {}) {
    this.gate = new WaiterGate({ ...DEFAULT_LOCK_LIMITS, ...limits }.maxWaiters);
  }

  /** Lock calls in progress. */
  get waiters(): number {
    return this.gate.count;
  }

  /** Resolves once the caller holds the lock `name`; rejects with WaitAborted on `signal`. */
  /**
   * `caller` (a client): as etcd's Mutex through the caller's own client, it needs WRITE on its
   * key `name/<lease hex>` and READ on the prefix `name/` (to find the owner and wait).
   */
  async lock(name: Uint8Array, lease: bigint, signal?: AbortSignal, caller?: RequestCaller): Promise<LockResult> {
    this.gate.enter();
    try {
      const prefix = contenderPrefix(name);
      this.host.auth.checkRead(caller, prefix, prefixEnd(prefix));
      if (lease !== 0n) this.host.auth.checkWrite(caller, contenderKey(prefix, lease));
      const leaseId = lease !== 0n ? lease : (await this.host.leases.grant(SESSION_LEASE_TTL_SEC, 0n)).result.id;
      this.host.auth.checkWrite(caller, contenderKey(prefix, leaseId));
      return await this.acquire(name, leaseId, signal);
    } finally {
      this.gate.leave();
    }
  }

  async unlock(key: Uint8Array, caller?: RequestCaller): Promise<{ header: ResponseHeader }> {
    this.host.auth.checkWrite(caller, key);
    const { header } = await this.host.deleteRange({ key });
    return { header };
  }

  private async acquire(name: Uint8Array, lease: bigint, signal?: AbortSignal): Promise<LockResult> {
    const prefix = contenderPrefix(name);
    const key = contenderKey(prefix, lease);
    const { header, result } = await this.host.txn({
      compare: [{ target: 'CREATE', result: 'EQUAL', key, number: 0n }],
      success: [{ put: { key, value: EMPTY_BYTES, lease } }, { range: firstCreated(prefix) }],
      failure: [{ range: { key } }, { range: firstCreated(prefix) }],
    });
    const myRev = result.succeeded ? header.revision : rangeAt(result, 0)[0].createRevision;
    const owner = rangeAt(result, 1);
    if (owner.length === 0 || owner[0].createRevision === myRev) return { header, key };
    let waited: ResponseHeader;
    try {
      waited = await waitDeletes(this.host, prefix, myRev - 1n, signal);
    } catch (e) {
      await this.unlock(key).catch(() => undefined);
      throw e;
    }
    // Our lease may have expired while we waited: then our key is gone and so is our turn.
    const mine = await currentKv(this.host, key);
    if (!mine || mine.createRevision !== myRev) throw new CairnError('LeaseNotFound');
    return { header: waited, key };
  }
}

function rangeAt(r: TxnResult, i: number) {
  const op = r.responses[i];
  if (!op || !('range' in op)) throw new CairnError('Internal');
  return op.range.kvs;
}
