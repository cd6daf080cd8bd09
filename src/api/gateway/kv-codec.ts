/**
 * Translation between etcd's gateway JSON (snake_case, base64 bytes, int64 as strings, zero
 * values omitted) and Cairn's internal requests and results. Input has already passed the
 * schema check; here bytes are decoded (Go's base64 errors), int64s are range-checked and
 * enums resolved. Output omits every zero field, as etcd's marshaller does.
 *
 * Pure translation: no server calls, no HTTP.
 */
import { CairnError } from '../../errors/errors.js';
import type {
  Compare, CompareResult, CompareTarget, DeleteRangeRequest, DeleteRangeResult, KeyValue, PutRequest,
  PutResult, RangeRequest, RangeResult, RequestOp, ResponseOp, SortOrder, SortTarget, TxnRequest, TxnResult,
} from '../../mvcc/types.js';
import type { ResponseHeader } from '../../server/cairn-server.js';
import { Base64Error, decodeBase64, encodeBase64 } from './base64.js';

export type Json = Record<string, unknown>;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const EMPTY = new Uint8Array(0);

export function bytesIn(v: unknown): Uint8Array {
  if (v === undefined || v === null) return EMPTY;
  try {
    return decodeBase64(v as string);
  } catch (e) {
    if (e instanceof Base64Error) throw new CairnError('BadRequest', e.message);
    throw e;
  }
}

export function int64In(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  const n = typeof v === 'number' ? BigInt(v) : BigInt(v as string);
  if (n < INT64_MIN || n > INT64_MAX) {
    throw new CairnError('BadRequest', `json: cannot unmarshal number ${String(v)} into Go value of type int64`);
  }
  return n;
}

export function boolIn(v: unknown): boolean {
  return v === true;
}

/** Enum by name or number (the schema's enumField has refused unknown names); an unknown number
 * behaves as etcd does with it (the default). */
export function enumIn<T extends string>(v: unknown, names: readonly T[]): T {
  if (typeof v === 'string') return v as T;
  if (typeof v === 'number' && v >= 0 && v < names.length) return names[v];
  return names[0];
}

const SORT_ORDERS = ['NONE', 'ASCEND', 'DESCEND'] as const satisfies readonly SortOrder[];
const SORT_TARGETS = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'] as const satisfies readonly SortTarget[];
const COMPARE_RESULTS = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'] as const satisfies readonly CompareResult[];
const COMPARE_TARGETS = ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'] as const satisfies readonly CompareTarget[];

const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});

export function rangeIn(body: unknown): RangeRequest {
  const b = obj(body);
  return {
    key: bytesIn(b.key),
    rangeEnd: bytesIn(b.range_end),
    limit: int64In(b.limit),
    revision: int64In(b.revision),
    sortOrder: enumIn(b.sort_order, SORT_ORDERS),
    sortTarget: enumIn(b.sort_target, SORT_TARGETS),
    serializable: boolIn(b.serializable),
    keysOnly: boolIn(b.keys_only),
    countOnly: boolIn(b.count_only),
    minModRevision: int64In(b.min_mod_revision),
    maxModRevision: int64In(b.max_mod_revision),
    minCreateRevision: int64In(b.min_create_revision),
    maxCreateRevision: int64In(b.max_create_revision),
  };
}

export function putIn(body: unknown): PutRequest {
  const b = obj(body);
  return {
    key: bytesIn(b.key),
    value: bytesIn(b.value),
    lease: int64In(b.lease),
    prevKv: boolIn(b.prev_kv),
    ignoreValue: boolIn(b.ignore_value),
    ignoreLease: boolIn(b.ignore_lease),
  };
}

export function deleteRangeIn(body: unknown): DeleteRangeRequest {
  const b = obj(body);
  return { key: bytesIn(b.key), rangeEnd: bytesIn(b.range_end), prevKv: boolIn(b.prev_kv) };
}

function compareIn(body: unknown): Compare {
  const b = obj(body);
  const target = enumIn(b.target, COMPARE_TARGETS);
  const c: Compare = { result: enumIn(b.result, COMPARE_RESULTS), target, key: bytesIn(b.key), rangeEnd: bytesIn(b.range_end) };
  if (target === 'VALUE') c.value = bytesIn(b.value);
  else if (target === 'VERSION') c.number = int64In(b.version);
  else if (target === 'CREATE') c.number = int64In(b.create_revision);
  else if (target === 'MOD') c.number = int64In(b.mod_revision);
  else c.number = int64In(b.lease);
  return c;
}

function requestOpIn(body: unknown): RequestOp {
  const b = obj(body);
  if (b.request_range != null) return { range: rangeIn(b.request_range) };
  if (b.request_put != null) return { put: putIn(b.request_put) };
  if (b.request_delete_range != null) return { deleteRange: deleteRangeIn(b.request_delete_range) };
  if (b.request_txn != null) return { txn: txnIn(b.request_txn) };
  throw new CairnError('KeyNotFound'); // etcd answers an empty RequestOp so
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function txnIn(body: unknown): TxnRequest {
  const b = obj(body);
  const ops = (v: unknown) => list(v).map(requestOpIn);
  return { compare: list(b.compare).map(compareIn), success: ops(b.success), failure: ops(b.failure) };
}

export function compactionIn(body: unknown): { revision: bigint; physical: boolean } {
  const b = obj(body);
  return { revision: int64In(b.revision), physical: boolIn(b.physical) };
}

// ---- output ----

export function headerOut(h: ResponseHeader): Json {
  return {
    cluster_id: h.clusterId.toString(),
    member_id: h.memberId.toString(),
    revision: h.revision.toString(),
    raft_term: h.raftTerm.toString(),
  };
}

export function kvOut(kv: KeyValue): Json {
  const o: Json = { key: encodeBase64(kv.key) };
  if (kv.createRevision !== 0n) o.create_revision = kv.createRevision.toString();
  if (kv.modRevision !== 0n) o.mod_revision = kv.modRevision.toString();
  if (kv.version !== 0n) o.version = kv.version.toString();
  if (kv.value.length > 0) o.value = encodeBase64(kv.value);
  if (kv.lease !== 0n) o.lease = kv.lease.toString();
  return o;
}

export function rangeOut(header: Json, r: RangeResult): Json {
  const o: Json = { header };
  if (r.kvs.length > 0) o.kvs = r.kvs.map(kvOut);
  if (r.more) o.more = true;
  if (r.count !== 0n) o.count = r.count.toString();
  return o;
}

export function putOut(header: Json, r: PutResult): Json {
  const o: Json = { header };
  if (r.prevKv) o.prev_kv = kvOut(r.prevKv);
  return o;
}

export function deleteRangeOut(header: Json, r: DeleteRangeResult): Json {
  const o: Json = { header };
  if (r.deleted !== 0n) o.deleted = r.deleted.toString();
  if (r.prevKvs.length > 0) o.prev_kvs = r.prevKvs.map(kvOut);
  return o;
}

/**
 * Inside a txn, each result's header carries only the revision as etcd reports it there: the
 * txn's revision so far — the revision before the txn until the first write lands, the txn's
 * own revision from then on. A nested txn's header is empty.
 */
export function txnOut(header: Json, r: TxnResult): Json {
  const after = BigInt(header.revision as string);
  const cursor = { before: wrote(r) ? after - 1n : after, wrote: false };
  const o: Json = { header };
  if (r.succeeded) o.succeeded = true;
  if (r.responses.length > 0) o.responses = r.responses.map((op) => responseOpOut(op, cursor));
  return o;
}

interface RevisionCursor {
  before: bigint;
  wrote: boolean;
}

function opWrote(op: ResponseOp): boolean {
  if ('put' in op) return true;
  if ('deleteRange' in op) return op.deleteRange.deleted > 0n;
  if ('txn' in op) return wrote(op.txn);
  return false;
}

function wrote(r: TxnResult): boolean {
  return r.responses.some(opWrote);
}

function responseOpOut(op: ResponseOp, c: RevisionCursor): Json {
  if ('txn' in op) return { response_txn: txnOutNested(op.txn, c) };
  if (opWrote(op)) c.wrote = true;
  const inner = { revision: (c.wrote ? c.before + 1n : c.before).toString() };
  if ('range' in op) return { response_range: rangeOut(inner, op.range) };
  if ('put' in op) return { response_put: putOut(inner, op.put) };
  return { response_delete_range: deleteRangeOut(inner, op.deleteRange) };
}

function txnOutNested(r: TxnResult, c: RevisionCursor): Json {
  const o: Json = { header: {} };
  if (r.succeeded) o.succeeded = true;
  if (r.responses.length > 0) o.responses = r.responses.map((op) => responseOpOut(op, c));
  return o;
}
