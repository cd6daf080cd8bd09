/**
 * Decoding etcd's v3 JSON gateway: base64 bytes, int64 as JSON strings (or numbers), zero
 * values omitted. Every function takes `unknown` (parsed JSON) and returns a complete typed
 * value from ./types.ts, filling omitted fields with protobuf's zero values.
 *
 * Must never: throw on a missing field (absence means zero), or go through a JavaScript number
 * for a 64-bit value.
 */
import type * as T from './types.js';

type Json = Record<string, unknown>;

function obj(x: unknown): Json {
  return x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Json) : {};
}
function list(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}
/** Reads a field by its proto name or the camelCase name (the gateway accepts and emits both). */
function field(o: Json, snake: string): unknown {
  if (snake in o) return o[snake];
  const camel = snake.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  return o[camel];
}

export function int64(x: unknown): bigint {
  if (typeof x === 'bigint') return x;
  if (typeof x === 'string' && x !== '') return BigInt(x);
  if (typeof x === 'number' && Number.isInteger(x)) return BigInt(x);
  return 0n;
}
export function str(x: unknown): string {
  return typeof x === 'string' ? x : '';
}
export function bool(x: unknown): boolean {
  return x === true;
}
export function bytes(x: unknown): Buffer {
  return typeof x === 'string' ? Buffer.from(x, 'base64') : Buffer.alloc(0);
}
export function b64(b: Uint8Array): string {
  return Buffer.from(b).toString('base64');
}

export function header(x: unknown): T.ResponseHeader {
  const o = obj(x);
  return {
    clusterId: int64(field(o, 'cluster_id')), memberId: int64(field(o, 'member_id')),
    revision: int64(o.revision), raftTerm: int64(field(o, 'raft_term')),
  };
}

export function keyValue(x: unknown): T.KeyValue {
  const o = obj(x);
  return {
    key: bytes(o.key), createRevision: int64(field(o, 'create_revision')),
    modRevision: int64(field(o, 'mod_revision')), version: int64(o.version),
    value: bytes(o.value), lease: int64(o.lease),
  };
}
function optionalKv(x: unknown): T.KeyValue | null {
  return x === undefined || x === null ? null : keyValue(x);
}

export function rangeResponse(x: unknown): T.RangeResponse {
  const o = obj(x);
  return { header: header(o.header), kvs: list(o.kvs).map(keyValue), more: bool(o.more), count: int64(o.count) };
}
export function putResponse(x: unknown): T.PutResponse {
  const o = obj(x);
  return { header: header(o.header), prevKv: optionalKv(field(o, 'prev_kv')) };
}
export function deleteRangeResponse(x: unknown): T.DeleteRangeResponse {
  const o = obj(x);
  return { header: header(o.header), deleted: int64(o.deleted), prevKvs: list(field(o, 'prev_kvs')).map(keyValue) };
}
function responseOp(x: unknown): T.ResponseOp {
  const o = obj(x);
  const range = field(o, 'response_range');
  if (range !== undefined) return { kind: 'range', range: rangeResponse(range) };
  const put = field(o, 'response_put');
  if (put !== undefined) return { kind: 'put', put: putResponse(put) };
  const del = field(o, 'response_delete_range');
  if (del !== undefined) return { kind: 'deleteRange', deleteRange: deleteRangeResponse(del) };
  return { kind: 'txn', txn: txnResponse(field(o, 'response_txn')) };
}
export function txnResponse(x: unknown): T.TxnResponse {
  const o = obj(x);
  return { header: header(o.header), succeeded: bool(o.succeeded), responses: list(o.responses).map(responseOp) };
}
export function headerOnly(x: unknown): { header: T.ResponseHeader } {
  return { header: header(obj(x).header) };
}

function watchEvent(x: unknown): T.WatchEvent {
  const o = obj(x);
  const type: T.EventType = o.type === 'DELETE' || o.type === 1 ? 'DELETE' : 'PUT';
  return { type, kv: keyValue(o.kv), prevKv: optionalKv(field(o, 'prev_kv')) };
}
export function watchResponse(x: unknown): T.WatchResponse {
  const o = obj(x);
  return {
    header: header(o.header), watchId: int64(field(o, 'watch_id')), created: bool(o.created),
    canceled: bool(o.canceled), compactRevision: int64(field(o, 'compact_revision')),
    cancelReason: str(field(o, 'cancel_reason')), fragment: bool(o.fragment),
    events: list(o.events).map(watchEvent),
  };
}

export function leaseGrantResponse(x: unknown): T.LeaseGrantResponse {
  const o = obj(x);
  return { header: header(o.header), id: int64(o.ID), ttl: int64(o.TTL), error: str(o.error) };
}
export function leaseKeepAliveResponse(x: unknown): T.LeaseKeepAliveResponse {
  const o = obj(x);
  return { header: header(o.header), id: int64(o.ID), ttl: int64(o.TTL) };
}
export function leaseTimeToLiveResponse(x: unknown): T.LeaseTimeToLiveResponse {
  const o = obj(x);
  return {
    header: header(o.header), id: int64(o.ID), ttl: int64(o.TTL),
    grantedTtl: int64(o.grantedTTL), keys: list(o.keys).map(bytes),
  };
}
export function leaseLeasesResponse(x: unknown): T.LeaseLeasesResponse {
  const o = obj(x);
  return { header: header(o.header), leases: list(o.leases).map((l) => ({ id: int64(obj(l).ID) })) };
}

export function member(x: unknown): T.Member {
  const o = obj(x);
  return {
    id: int64(o.ID), name: str(o.name), peerUrls: list(o.peerURLs).map(str),
    clientUrls: list(o.clientURLs).map(str), isLearner: bool(o.isLearner),
  };
}
export function memberListResponse(x: unknown): T.MemberListResponse {
  const o = obj(x);
  return { header: header(o.header), members: list(o.members).map(member) };
}
export function memberAddResponse(x: unknown): T.MemberAddResponse {
  const o = obj(x);
  return { header: header(o.header), member: member(o.member), members: list(o.members).map(member) };
}

export function statusResponse(x: unknown): T.StatusResponse {
  const o = obj(x);
  return {
    header: header(o.header), version: str(o.version), dbSize: int64(o.dbSize), leader: int64(o.leader),
    raftIndex: int64(o.raftIndex), raftTerm: int64(o.raftTerm), raftAppliedIndex: int64(o.raftAppliedIndex),
    errors: list(o.errors).map(str), dbSizeInUse: int64(o.dbSizeInUse), isLearner: bool(o.isLearner),
  };
}
export function hashKvResponse(x: unknown): T.HashKVResponse {
  const o = obj(x);
  return { header: header(o.header), hash: Number(o.hash ?? 0), compactRevision: int64(field(o, 'compact_revision')) };
}
function alarmType(x: unknown): T.AlarmMember['alarm'] {
  if (x === 'NOSPACE' || x === 1) return 'NOSPACE';
  if (x === 'CORRUPT' || x === 2) return 'CORRUPT';
  return 'NONE';
}
export function alarmResponse(x: unknown): T.AlarmResponse {
  const o = obj(x);
  return {
    header: o.header === undefined ? null : header(o.header),
    alarms: list(o.alarms).map((a) => ({ memberId: int64(obj(a).memberID), alarm: alarmType(obj(a).alarm) })),
  };
}

export function lockResponse(x: unknown): T.LockResponse {
  const o = obj(x);
  return { header: header(o.header), key: bytes(o.key) };
}
export function leaderKey(x: unknown): T.LeaderKey {
  const o = obj(x);
  return { name: bytes(o.name), key: bytes(o.key), rev: int64(o.rev), lease: int64(o.lease) };
}
export function campaignResponse(x: unknown): T.CampaignResponse {
  const o = obj(x);
  return { header: header(o.header), leader: leaderKey(o.leader) };
}
export function leaderResponse(x: unknown): T.LeaderResponse {
  const o = obj(x);
  return { header: header(o.header), kv: optionalKv(o.kv) };
}

function permType(x: unknown): T.PermType {
  if (x === 'WRITE' || x === 1) return 'WRITE';
  if (x === 'READWRITE' || x === 2) return 'READWRITE';
  return 'READ';
}
export function authUserGetResponse(x: unknown): T.AuthUserGetResponse {
  const o = obj(x);
  return { header: header(o.header), roles: list(o.roles).map(str) };
}
export function authUserListResponse(x: unknown): T.AuthUserListResponse {
  const o = obj(x);
  return { header: header(o.header), users: list(o.users).map(str) };
}
export function authRoleGetResponse(x: unknown): T.AuthRoleGetResponse {
  const o = obj(x);
  const perm = list(o.perm).map((p) => {
    const q = obj(p);
    return { permType: permType(q.permType), key: bytes(q.key), rangeEnd: bytes(field(q, 'range_end')) };
  });
  return { header: header(o.header), perm };
}
export function authRoleListResponse(x: unknown): T.AuthRoleListResponse {
  const o = obj(x);
  return { header: header(o.header), roles: list(o.roles).map(str) };
}
