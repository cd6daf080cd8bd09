/**
 * Everything that passes through the propose seam: the key-space writes of mvcc/types.ts, the
 * lease requests (grant, revoke, checkpoint), alarm changes and the auth changes (users, roles,
 * enable). All are ordered by the log and applied in that
 * order on every member, so lease state is the same everywhere. Keep-alives are not here: they
 * renew on the primary only, in memory, as etcd does.
 *
 * Vocabulary only: no logic, no I/O.
 */
import type { WriteOutcome, WriteRequest, WriteResult } from '../mvcc/types.js';
import type { AlarmMember, AlarmType } from './alarms.js';
import type { AuthOp, RequestCaller } from '../auth/auth-requests.js';

export type { AuthOp, RequestCaller };

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

/** A change of users, roles or the enabled flag (auth/auth-requests.ts). */
export type AuthRequest = { auth: AuthOp };

/**
 * `caller`: who sent it, when a client did (checked at apply against the auth state of that
 * point in the log); absent for the member's own requests (lease expiry, alarms).
 */
export type ServerRequest = (WriteRequest | LeaseRequest | AlarmRequest | AuthRequest) & { caller?: RequestCaller };

export type LeaseResult =
  | { leaseGrant: { id: bigint; ttlSec: bigint } }
  | { leaseRevoke: Record<string, never> }
  | { leaseCheckpoint: Record<string, never> };

export type ServerResult = WriteResult | LeaseResult | { alarm: { alarms: AlarmMember[] } } | { auth: Record<string, never> };

export type ServerOutcome =
  | { ok: true; result: ServerResult; revision: bigint }
  | { ok: false; error: Error; revision: bigint };

export function isLeaseRequest(r: ServerRequest): r is LeaseRequest & { caller?: RequestCaller } {
  return 'leaseGrant' in r || 'leaseRevoke' in r || 'leaseCheckpoint' in r;
}

export function isAlarmRequest(r: ServerRequest): r is AlarmRequest & { caller?: RequestCaller } {
  return 'alarm' in r;
}

export function isAuthRequest(r: ServerRequest): r is AuthRequest & { caller?: RequestCaller } {
  return 'auth' in r;
}

/** Narrowing helper for the outcome of a KV write (the store's type). */
export type { WriteOutcome };
