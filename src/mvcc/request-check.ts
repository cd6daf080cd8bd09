/**
 * Static checks of a request, before the store reads or writes anything: the checks etcd's
 * gRPC layer makes (empty key, value/lease given with ignore_value/ignore_lease, too many txn
 * ops, one key written twice in a txn) plus Cairn's key-length limit. They look at the request
 * only, so they cover both branches of a txn whatever its compares will say.
 *
 * Never reads storage; throws CairnError values.
 */
import { CairnError } from '../errors/errors.js';
import type { Bytes, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './types.js';
import { spanContains, type KeySpan } from './key-span.js';
import { asBuffer } from './revision.js';

export interface RequestLimits {
  maxKeyBytes: number;
  /** etcd's --max-txn-ops (default 128). */
  maxTxnOps: number;
}

function checkKey(key: Bytes, limits: RequestLimits, rangeEnd?: Bytes): void {
  if (key.byteLength === 0) throw new CairnError('EmptyKey');
  const longest = Math.max(key.byteLength, rangeEnd?.byteLength ?? 0);
  if (longest > limits.maxKeyBytes) {
    throw new CairnError('KeyTooLarge', `etcdserver: key is too large (${longest} bytes; Cairn's limit is ${limits.maxKeyBytes} bytes)`);
  }
}

export function checkRangeRequest(req: RangeRequest, limits: RequestLimits): void {
  checkKey(req.key, limits, req.rangeEnd);
}

export function checkPutRequest(req: PutRequest, limits: RequestLimits): void {
  checkKey(req.key, limits);
  if (req.ignoreValue && req.value.byteLength !== 0) throw new CairnError('ValueProvided');
  if (req.ignoreLease && (req.lease ?? 0n) !== 0n) throw new CairnError('LeaseProvided');
}

export function checkDeleteRequest(req: DeleteRangeRequest, limits: RequestLimits): void {
  checkKey(req.key, limits, req.rangeEnd);
}

/** All static checks of a txn: op counts and shapes first, then duplicate writes per branch. */
export function checkTxnRequest(req: TxnRequest, limits: RequestLimits): void {
  checkTxnShape(req, limits, limits.maxTxnOps);
  collectWrites(req.success);
  collectWrites(req.failure);
}

function checkTxnShape(req: TxnRequest, limits: RequestLimits, opsBudget: number): void {
  const ops = Math.max(req.compare.length, req.success.length, req.failure.length);
  if (ops > opsBudget) throw new CairnError('TooManyOps');
  for (const c of req.compare) checkKey(c.key, limits, c.rangeEnd);
  for (const op of req.success) checkOp(op, limits, opsBudget - ops);
  for (const op of req.failure) checkOp(op, limits, opsBudget - ops);
}

function checkOp(op: RequestOp, limits: RequestLimits, opsBudget: number): void {
  if ('range' in op) checkRangeRequest(op.range, limits);
  else if ('put' in op) checkPutRequest(op.put, limits);
  else if ('deleteRange' in op) checkDeleteRequest(op.deleteRange, limits);
  else checkTxnShape(op.txn, limits, opsBudget);
}

interface WriteSet {
  /** Put keys, as latin1 strings (one char per byte) so a Map can hold them. */
  puts: Map<string, Bytes>;
  dels: KeySpan[];
}

function coveredByDelete(dels: KeySpan[], key: Bytes): boolean {
  for (const span of dels) if (spanContains(span, key)) return true;
  return false;
}

/**
 * etcd's rule for one branch: a key may not be put twice, nor put inside a range deleted at the
 * same level or by a nested txn met earlier; the two branches of one nested txn may put the same
 * key (only one runs). As in etcd 3.4, a delete's range end is compared as plain bytes here, so a
 * from-key delete ([0x00] end) covers nothing in this check (etcd accepts such txns; so must we:
 * clients rely on the same requests working, and the ops still apply in order).
 */
function literalSpan(key: Bytes, rangeEnd?: Bytes): KeySpan {
  if (rangeEnd === undefined || rangeEnd.byteLength === 0) return { kind: 'single', key };
  return { kind: 'range', key, end: rangeEnd };
}

function collectWrites(ops: RequestOp[]): WriteSet {
  const dels: KeySpan[] = [];
  for (const op of ops) if ('deleteRange' in op) dels.push(literalSpan(op.deleteRange.key, op.deleteRange.rangeEnd));
  const puts = new Map<string, Bytes>();
  const addPut = (id: string, key: Bytes, allowed?: Map<string, Bytes>): void => {
    if ((puts.has(id) && !allowed?.has(id)) || coveredByDelete(dels, key)) throw new CairnError('DuplicateKey');
    puts.set(id, key);
  };
  for (const op of ops) {
    if (!('txn' in op)) continue;
    const then = collectWrites(op.txn.success);
    const otherwise = collectWrites(op.txn.failure);
    for (const [id, key] of then.puts) addPut(id, key);
    for (const [id, key] of otherwise.puts) addPut(id, key, then.puts);
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    if ('put' in op) addPut(asBuffer(op.put.key).toString('latin1'), op.put.key);
  }
  return { puts, dels };
}
