/**
 * etcd's v3election service (campaign, proclaim, leader, observe, resign), done as etcd's
 * concurrency.Election does it, with this member's own txn, range and watch hub. Each candidate
 * puts `name/<lease hex>` with its proposed value; the oldest key (lowest create revision) is the
 * leader. A campaign waits until every older candidate's key is gone, watching only its direct
 * predecessor each round (no herd). Proclaim and resign act only while the leader's key still
 * has the create revision the caller was elected with (a txn compare), so a deposed leader
 * cannot overwrite or delete its successor's key.
 *
 * Observe follows the leader: the oldest key's value, then every change of that key until it is
 * deleted, then the next leader (or the first candidate to appear when there is none).
 *
 * Knows nothing of HTTP. Must never tell a candidate it leads unless its key is the oldest and
 * still exists; must never poll; must never leave a watcher behind after a call ends.
 */
import { CairnError } from '../../errors/errors.js';
import type { KeyValue, TxnResult } from '../../mvcc/types.js';
import type { ResponseHeader } from '../cairn-server.js';
import type { RequestCaller } from '../requests.js';
import {
  contenderKey, contenderPrefix, currentKv, EventQueue, firstCreated, prefixEnd, SESSION_LEASE_TTL_SEC, WaitAborted,
  WaiterGate, waitDeletes, type ConcurrencyHost,
} from './wait-deletes.js';

export interface ElectionLimits {
  /** Campaigns in progress on this member; past it: TooManyRequests. */
  maxCandidates: number;
  /** Observe streams on this member; past it: TooManyRequests. */
  maxObservers: number;
}

export const DEFAULT_ELECTION_LIMITS: ElectionLimits = { maxCandidates: 10_000, maxObservers: 10_000 };

/** etcd's text when proclaim or resign come without a leader key (no kind in errors.ts yet). */
export const MISSING_LEADER_KEY = '"leader" field must be provided';

/** What a campaign wins: it names the leader's key for proclaim and resign. */
export interface LeaderKey {
  name: Uint8Array;
  key: Uint8Array;
  /** Create revision of the key. */
  rev: bigint;
  lease: bigint;
}

export type LeaderListener = (header: ResponseHeader, kv: KeyValue) => void;

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

export class ElectionService {
  private readonly candidates: WaiterGate;
  private readonly observers: WaiterGate;

  constructor(private readonly host: ConcurrencyHost, limits: Partial<ElectionLimits> = {}) {
    const l = { ...DEFAULT_ELECTION_LIMITS, ...limits };
    this.candidates = new WaiterGate(l.maxCandidates);
    this.observers = new WaiterGate(l.maxObservers);
  }

  /** Resolves once the caller leads `name`; rejects with WaitAborted on `signal` (after resigning). */
  /** `caller` (a client): WRITE on its key `name/<lease hex>`, READ on the prefix `name/`. */
  async campaign(
    name: Uint8Array, lease: bigint, value: Uint8Array, signal?: AbortSignal, caller?: RequestCaller,
  ): Promise<{ header: ResponseHeader; leader: LeaderKey }> {
    this.candidates.enter();
    try {
      const prefix = contenderPrefix(name);
      this.host.auth.checkRead(caller, prefix, prefixEnd(prefix));
      if (lease !== 0n) this.host.auth.checkWrite(caller, contenderKey(prefix, lease));
      const leaseId = lease !== 0n ? lease : await this.sessionLease();
      this.host.auth.checkWrite(caller, contenderKey(prefix, leaseId));
      return await this.stand(name, leaseId, value, signal);
    } finally {
      this.candidates.leave();
    }
  }

  async proclaim(leader: LeaderKey | undefined, value: Uint8Array, caller?: RequestCaller): Promise<{ header: ResponseHeader }> {
    if (!leader) throw new CairnError('BadRequest', MISSING_LEADER_KEY);
    this.host.auth.checkRead(caller, leader.key);
    this.host.auth.checkWrite(caller, leader.key);
    // As etcd's session: no lease means a fresh one of the server's own.
    const lease = leader.lease !== 0n ? leader.lease : await this.sessionLease();
    const { header, result } = await this.host.txn({
      compare: [{ target: 'CREATE', result: 'EQUAL', key: leader.key, number: leader.rev }],
      success: [{ put: { key: leader.key, value, lease } }],
      failure: [],
    });
    if (!result.succeeded) throw new CairnError('ElectionNotLeader');
    return { header };
  }

  /** Gives up leadership (or a candidacy); not leading any more is not an error. */
  async resign(leader: LeaderKey | undefined, caller?: RequestCaller): Promise<{ header: ResponseHeader }> {
    if (!leader) throw new CairnError('BadRequest', MISSING_LEADER_KEY);
    this.host.auth.checkRead(caller, leader.key);
    this.host.auth.checkWrite(caller, leader.key);
    const { header } = await this.host.txn({
      compare: [{ target: 'CREATE', result: 'EQUAL', key: leader.key, number: leader.rev }],
      success: [{ deleteRange: { key: leader.key } }],
      failure: [],
    });
    return { header };
  }

  async leader(name: Uint8Array, caller?: RequestCaller): Promise<{ header: ResponseHeader; kv: KeyValue }> {
    const prefix = contenderPrefix(name);
    this.host.auth.checkRead(caller, prefix, prefixEnd(prefix));
    const { header, result } = await this.host.range(firstCreated(prefix));
    if (result.kvs.length === 0) throw new CairnError('ElectionNoLeader');
    return { header, kv: result.kvs[0] };
  }

  /**
   * Calls `listener` with the leader's kv now (or when one appears), on each change of its value,
   * and with each next leader, until `signal` aborts (then resolves) or a read fails (rejects).
   */
  async observe(name: Uint8Array, listener: LeaderListener, signal: AbortSignal, caller?: RequestCaller): Promise<void> {
    this.observers.enter();
    try {
      const prefix = contenderPrefix(name);
      this.host.auth.checkRead(caller, prefix, prefixEnd(prefix));
      while (!signal.aborted) {
        try {
          const { header, kv } = await this.currentOrNextLeader(prefix, signal);
          listener(header, kv);
          await this.followUntilDeleted(kv.key, header.revision + 1n, listener, signal);
        } catch (e) {
          if (e instanceof WaitAborted) return;
          if (!(e instanceof CairnError && e.kind === 'Compacted')) throw e;
        }
      }
    } finally {
      this.observers.leave();
    }
  }

  private async sessionLease(): Promise<bigint> {
    return (await this.host.leases.grant(SESSION_LEASE_TTL_SEC, 0n)).result.id;
  }

  private async stand(name: Uint8Array, lease: bigint, value: Uint8Array, signal?: AbortSignal) {
    const prefix = contenderPrefix(name);
    const key = contenderKey(prefix, lease);
    const { header, result } = await this.host.txn({
      compare: [{ target: 'CREATE', result: 'EQUAL', key, number: 0n }],
      success: [{ put: { key, value, lease } }],
      failure: [{ range: { key } }],
    });
    const leader: LeaderKey = { name, key, rev: header.revision, lease };
    if (!result.succeeded) {
      const kv = existing(result);
      leader.rev = kv.createRevision;
      // Campaigning again with the same lease: keep the place in line, take the new value.
      if (!sameBytes(kv.value, value)) await this.proclaim(leader, value).catch(async (e: unknown) => {
        await this.resign(leader).catch(() => undefined);
        throw e;
      });
    }
    try {
      await waitDeletes(this.host, prefix, leader.rev - 1n, signal);
    } catch (e) {
      if (signal?.aborted) await this.resign(leader).catch(() => undefined);
      throw e;
    }
    // Our lease may have ended (or someone resigned us) while we waited.
    const mine = await currentKv(this.host, key);
    if (!mine || mine.createRevision !== leader.rev) throw new CairnError('ElectionNotLeader');
    return { header, leader };
  }

  private async currentOrNextLeader(prefix: Uint8Array, signal: AbortSignal): Promise<{ header: ResponseHeader; kv: KeyValue }> {
    const { header, result } = await this.host.range(firstCreated(prefix));
    if (result.kvs.length > 0) return { header, kv: result.kvs[0] };
    // No leader: the first key put under the prefix from here on is the next one.
    const q = new EventQueue(this.host.watchHub, {
      key: prefix, rangeEnd: prefixEnd(prefix), startRevision: header.revision, noDelete: true,
    });
    try {
      for (;;) {
        const b = await q.next(signal);
        const put = b.events.find((e) => e.type === 'PUT');
        if (put) return { header: this.host.header(put.kv.modRevision), kv: put.kv };
      }
    } finally {
      q.close();
    }
  }

  private async followUntilDeleted(key: Uint8Array, fromRevision: bigint, listener: LeaderListener, signal: AbortSignal): Promise<void> {
    const q = new EventQueue(this.host.watchHub, { key, startRevision: fromRevision });
    try {
      for (;;) {
        const b = await q.next(signal);
        for (const e of b.events) {
          if (e.type === 'DELETE') return;
          listener(this.host.header(b.revision), e.kv);
        }
      }
    } finally {
      q.close();
    }
  }
}

function existing(r: TxnResult): KeyValue {
  const op = r.responses[0];
  if (!op || !('range' in op) || op.range.kvs.length === 0) throw new CairnError('Internal');
  return op.range.kvs[0];
}
