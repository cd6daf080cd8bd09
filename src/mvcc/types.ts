/**
 * The vocabulary of the revisioned key space: requests, results and events, in Cairn's internal
 * form (camelCase, bytes as Uint8Array, every 64-bit number a bigint). The API layer translates
 * etcd's JSON to and from these; the server carries them through the log; the store applies them.
 *
 * Nothing here knows of HTTP, Raft or LMDB.
 */

export type Bytes = Uint8Array;

export interface KeyValue {
  key: Bytes;
  createRevision: bigint;
  modRevision: bigint;
  /** 1 on creation, +1 on every put; a deleted key has no KeyValue (tombstone). */
  version: bigint;
  value: Bytes;
  /** 0n when the key has no lease. */
  lease: bigint;
}

export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND';
export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';

export interface RangeRequest {
  key: Bytes;
  /** Absent or empty: the single key. [0x00]: every key >= key. Otherwise [key, rangeEnd). */
  rangeEnd?: Bytes;
  /** 0n or absent: no limit. */
  limit?: bigint;
  /** 0n or absent: the current revision. */
  revision?: bigint;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  /** Read locally without a ReadIndex round; the store ignores it, the server does not. */
  serializable?: boolean;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: bigint;
  maxModRevision?: bigint;
  minCreateRevision?: bigint;
  maxCreateRevision?: bigint;
}

export interface RangeResult {
  /** Empty when countOnly. With keysOnly, each value is empty. */
  kvs: KeyValue[];
  /** True when `limit` cut the result short. */
  more: boolean;
  /** Keys in the range at that revision, ignoring limit and the min/max filters (as etcd). */
  count: bigint;
}

export interface PutRequest {
  key: Bytes;
  value: Bytes;
  lease?: bigint;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

export interface PutResult {
  prevKv?: KeyValue;
}

export interface DeleteRangeRequest {
  key: Bytes;
  rangeEnd?: Bytes;
  prevKv?: boolean;
}

export interface DeleteRangeResult {
  deleted: bigint;
  prevKvs: KeyValue[];
}

export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';

export interface Compare {
  result: CompareResult;
  target: CompareTarget;
  key: Bytes;
  /** As in RangeRequest: the compare must hold for every key in the range. */
  rangeEnd?: Bytes;
  /** For VERSION, CREATE, MOD, LEASE. */
  number?: bigint;
  /** For VALUE. */
  value?: Bytes;
}

export type RequestOp =
  | { range: RangeRequest }
  | { put: PutRequest }
  | { deleteRange: DeleteRangeRequest }
  | { txn: TxnRequest };

export type ResponseOp =
  | { range: RangeResult }
  | { put: PutResult }
  | { deleteRange: DeleteRangeResult }
  | { txn: TxnResult };

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

export interface TxnResult {
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface Event {
  type: 'PUT' | 'DELETE';
  /** For DELETE: key and modRevision (the deletion's revision) only, other fields zero. */
  kv: KeyValue;
  /** The key's previous state, when it had one. Always filled; watchers drop it unless asked. */
  prevKv?: KeyValue;
}

/** A write that the store applies at the next revision. */
export type WriteRequest =
  | { put: PutRequest }
  | { deleteRange: DeleteRangeRequest }
  | { txn: TxnRequest }
  | { compaction: { revision: bigint; physical?: boolean } };

export type WriteResult =
  | { put: PutResult }
  | { deleteRange: DeleteRangeResult }
  | { txn: TxnResult }
  | { compaction: Record<string, never> };

/** The outcome of one write in an applied batch: its result or its error, never both. */
export type WriteOutcome =
  | { ok: true; result: WriteResult; revision: bigint }
  | { ok: false; error: Error; revision: bigint };
