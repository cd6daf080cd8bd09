/**
 * Which key permissions each key-space request needs, as etcd 3.4's auth applier asks them:
 * range → READ on its range; put → WRITE on the key, READ too with prev_kv, and WRITE on every
 * key already attached to its lease (a user who could not revoke the lease must not attach to
 * it); delete → WRITE on the range, READ too with prev_kv; txn → READ on every compare's range
 * and the needs of every op of BOTH branches (nested txns included), whichever branch runs;
 * lease revoke → WRITE on every attached key. Compaction needs nothing.
 *
 * Pure: throws the store's CairnError (PermissionDenied, UserEmpty) and never changes anything.
 */
import type { RequestOp, TxnRequest, WriteRequest } from '../mvcc/types.js';
import type { AuthStore } from './auth-store.js';

export type KeysOfLease = (lease: bigint) => Uint8Array[];

function checkOp(auth: AuthStore, user: string | null, op: RequestOp, keysOfLease: KeysOfLease): void {
  if ('range' in op) auth.checkKeys(user, 'READ', op.range.key, op.range.rangeEnd);
  else if ('put' in op) {
    const p = op.put;
    auth.checkKeys(user, 'WRITE', p.key);
    if (p.lease !== undefined && p.lease !== 0n) checkLeaseKeys(auth, user, p.lease, keysOfLease);
    if (p.prevKv) auth.checkKeys(user, 'READ', p.key);
  } else if ('deleteRange' in op) {
    const d = op.deleteRange;
    auth.checkKeys(user, 'WRITE', d.key, d.rangeEnd);
    if (d.prevKv) auth.checkKeys(user, 'READ', d.key, d.rangeEnd);
  } else checkTxn(auth, user, op.txn, keysOfLease);
}

function checkTxn(auth: AuthStore, user: string | null, txn: TxnRequest, keysOfLease: KeysOfLease): void {
  for (const c of txn.compare) auth.checkKeys(user, 'READ', c.key, c.rangeEnd);
  for (const op of txn.success) checkOp(auth, user, op, keysOfLease);
  for (const op of txn.failure) checkOp(auth, user, op, keysOfLease);
}

/** WRITE on every key attached to the lease (a put to it, or its revoke). */
export function checkLeaseKeys(auth: AuthStore, user: string | null, lease: bigint, keysOfLease: KeysOfLease): void {
  if (!auth.enabled) return;
  for (const key of keysOfLease(lease)) auth.checkKeys(user, 'WRITE', key);
}

/** Throws unless `user` may make this key-space write now. */
export function checkWrite(auth: AuthStore, user: string | null, w: WriteRequest, keysOfLease: KeysOfLease): void {
  if (!auth.enabled || 'compaction' in w) return;
  if ('txn' in w) checkTxn(auth, user, w.txn, keysOfLease);
  else checkOp(auth, user, w as RequestOp, keysOfLease);
}
