/**
 * Everything that passes through the propose seam: the key-space writes of mvcc/types.ts plus
 * the lease requests (grant, revoke, checkpoint) and alarm changes. All are ordered by the log and applied in that
 * order on every member, so lease state is the same everywhere. Keep-alives are not here: they
 * renew on the primary only, in memory, as etcd does.
 *
 * Vocabulary only: no logic, no I/O.
 */
import type { WriteOutcome, WriteRequest, WriteResult } from '../mvcc/types.js';
import type { AlarmMember, AlarmType } from './alarms.js';

export interface LeaseGrantRequest {
  /** Never 0n here: the server picks the ID before proposing, so every member applies the same. */
  id: bigint;
  ttlSec: bigint;
}

export interface LeaseRevokeRequest {
  id: bigint;
}

export interface LeaseCheckpoint {
  id: bigint;
  remainingTtlSec: bigint;
}

export type LeaseRequest =
  | { leaseGrant: LeaseGrantRequest }
  | { leaseRevoke: LeaseRevokeRequest }
  | { leaseCheckpoint: { checkpoints: LeaseCheckpoint[] } };

/** etcd's AlarmRequest ACTIVATE / DEACTIVATE (GET is answered locally, never proposed). */
export interface AlarmRequest {
  alarm: { action: 'activate' | 'deactivate'; memberId: bigint; alarm: AlarmType };
}

export type ServerRequest = WriteRequest | LeaseRequest | AlarmRequest;

export type LeaseResult =
  | { leaseGrant: { id: bigint; ttlSec: bigint } }
  | { leaseRevoke: Record<string, never> }
  | { leaseCheckpoint: Record<string, never> };

export type ServerResult = WriteResult | LeaseResult | { alarm: { alarms: AlarmMember[] } };

export type ServerOutcome =
  | { ok: true; result: ServerResult; revision: bigint }
  | { ok: false; error: Error; revision: bigint };

export function isLeaseRequest(r: ServerRequest): r is LeaseRequest {
  return 'leaseGrant' in r || 'leaseRevoke' in r || 'leaseCheckpoint' in r;
}

export function isAlarmRequest(r: ServerRequest): r is AlarmRequest {
  return 'alarm' in r;
}

/** Narrowing helper for the outcome of a KV write (the store's type). */
export type { WriteOutcome };
