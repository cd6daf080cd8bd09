/**
 * Checks etcd makes on a txn before it enters the log: at most `maxTxnOps` operations per
 * branch, and no key written twice within a branch (two puts of one key, or a put inside a
 * deleted range), nested txns included. A refused txn changes nothing and uses no revision.
 */
import { CairnError } from '../errors/errors.js';
import type { RequestOp, TxnRequest } from '../mvcc/types.js';

export function checkTxnRequest(req: TxnRequest, maxTxnOps: number): void {
  checkSizes(req, maxTxnOps);
  checkBranch(req.success);
  checkBranch(req.failure);
}

function checkSizes(req: TxnRequest, maxTxnOps: number): void {
  if (req.compare.length > maxTxnOps || req.success.length > maxTxnOps || req.failure.length > maxTxnOps) {
    throw new CairnError('TooManyOps');
  }
  for (const op of [...req.success, ...req.failure]) {
    if ('txn' in op) checkSizes(op.txn, maxTxnOps);
  }
}

interface Writes {
  puts: Set<string>;
  deletes: Array<{ from: Buffer; to: Buffer | null /* null: single key */ }>;
}

function checkBranch(ops: RequestOp[]): Writes {
  const w: Writes = { puts: new Set(), deletes: [] };
  for (const op of ops) {
    if ('put' in op) {
      const k = Buffer.from(op.put.key).toString('latin1');
      if (w.puts.has(k)) throw new CairnError('DuplicateKey');
      w.puts.add(k);
    } else if ('deleteRange' in op) {
      w.deletes.push(rangeOf(op.deleteRange.key, op.deleteRange.rangeEnd));
    } else if ('txn' in op) {
      mergeNested(w, op.txn);
    }
  }
  for (const k of w.puts) {
    const key = Buffer.from(k, 'latin1');
    if (w.deletes.some((d) => inRange(key, d))) throw new CairnError('DuplicateKey');
  }
  return w;
}

/** A nested txn runs one of its branches: each may clash with the outer writes. */
function mergeNested(outer: Writes, txn: TxnRequest): void {
  const branches = [checkBranch(txn.success), checkBranch(txn.failure)];
  for (const b of branches) {
    for (const k of b.puts) {
      if (outer.puts.has(k)) throw new CairnError('DuplicateKey');
    }
  }
  for (const b of branches) {
    for (const k of b.puts) outer.puts.add(k);
    outer.deletes.push(...b.deletes);
  }
}

function rangeOf(key: Uint8Array, rangeEnd?: Uint8Array): { from: Buffer; to: Buffer | null } {
  if (!rangeEnd || rangeEnd.length === 0) return { from: Buffer.from(key), to: null };
  return { from: Buffer.from(key), to: Buffer.from(rangeEnd) };
}

function inRange(key: Buffer, r: { from: Buffer; to: Buffer | null }): boolean {
  if (r.to === null) return key.equals(r.from);
  if (Buffer.compare(key, r.from) < 0) return false;
  if (r.to.length === 1 && r.to[0] === 0) return true;
  return Buffer.compare(key, r.to) < 0;
}
