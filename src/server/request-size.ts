/**
 * The size of a request as etcd counts it against --max-request-bytes (the encoded protobuf):
 * approximated from its byte fields plus a small fixed cost per field, which is within a few
 * bytes of the real encoding. A request over the limit is refused before it enters the log.
 */
import { CairnError } from '../errors/errors.js';
import type { Compare, RequestOp, TxnRequest, WriteRequest } from '../mvcc/types.js';

const FIELD_OVERHEAD_BYTES = 11; // tag + varint length + an int64 field, roughly

function opBytes(op: RequestOp): number {
  if ('put' in op) return op.put.key.length + op.put.value.length + 3 * FIELD_OVERHEAD_BYTES;
  if ('deleteRange' in op) return op.deleteRange.key.length + (op.deleteRange.rangeEnd?.length ?? 0) + 2 * FIELD_OVERHEAD_BYTES;
  if ('range' in op) return op.range.key.length + (op.range.rangeEnd?.length ?? 0) + 4 * FIELD_OVERHEAD_BYTES;
  return txnBytes(op.txn);
}

function compareBytes(c: Compare): number {
  return c.key.length + (c.rangeEnd?.length ?? 0) + (c.value?.length ?? 0) + 3 * FIELD_OVERHEAD_BYTES;
}

function txnBytes(t: TxnRequest): number {
  let n = FIELD_OVERHEAD_BYTES;
  for (const c of t.compare) n += compareBytes(c);
  for (const op of t.success) n += opBytes(op) + FIELD_OVERHEAD_BYTES;
  for (const op of t.failure) n += opBytes(op) + FIELD_OVERHEAD_BYTES;
  return n;
}

export function writeRequestBytes(w: WriteRequest): number {
  if ('put' in w) return opBytes({ put: w.put });
  if ('deleteRange' in w) return opBytes({ deleteRange: w.deleteRange });
  if ('txn' in w) return txnBytes(w.txn);
  return FIELD_OVERHEAD_BYTES;
}

export function checkRequestSize(w: WriteRequest, maxRequestBytes: number): void {
  if (writeRequestBytes(w) > maxRequestBytes) throw new CairnError('RequestTooLarge');
}
