/**
 * The responses cairnctl works with, decoded from etcd's v3 JSON gateway into exact types:
 * 64-bit numbers as bigint (member and cluster IDs exceed 2^53), bytes as Buffer, every field
 * present (the gateway omits zero values; decoding puts the zeros back, as protobuf does).
 *
 * Must never: keep a 64-bit number in a JavaScript `number`, or know how anything is printed.
 */

export interface ResponseHeader { clusterId: bigint; memberId: bigint; revision: bigint; raftTerm: bigint }
export interface KeyValue {
  key: Buffer; createRevision: bigint; modRevision: bigint; version: bigint; value: Buffer; lease: bigint;
}
export interface RangeResponse { header: ResponseHeader; kvs: KeyValue[]; more: boolean; count: bigint }
export interface PutResponse { header: ResponseHeader; prevKv: KeyValue | null }
export interface DeleteRangeResponse { header: ResponseHeader; deleted: bigint; prevKvs: KeyValue[] }
export type ResponseOp =
  | { kind: 'range'; range: RangeResponse }
  | { kind: 'put'; put: PutResponse }
  | { kind: 'deleteRange'; deleteRange: DeleteRangeResponse }
  | { kind: 'txn'; txn: TxnResponse };
export interface TxnResponse { header: ResponseHeader; succeeded: boolean; responses: ResponseOp[] }
export interface CompactionResponse { header: ResponseHeader }

export type EventType = 'PUT' | 'DELETE';
export interface WatchEvent { type: EventType; kv: KeyValue; prevKv: KeyValue | null }
export interface WatchResponse {
  header: ResponseHeader; watchId: bigint; created: boolean; canceled: boolean;
  compactRevision: bigint; cancelReason: string; fragment: boolean; events: WatchEvent[];
}

export interface LeaseGrantResponse { header: ResponseHeader; id: bigint; ttl: bigint; error: string }
export interface LeaseRevokeResponse { header: ResponseHeader }
export interface LeaseKeepAliveResponse { header: ResponseHeader; id: bigint; ttl: bigint }
export interface LeaseTimeToLiveResponse {
  header: ResponseHeader; id: bigint; ttl: bigint; grantedTtl: bigint; keys: Buffer[];
}
export interface LeaseLeasesResponse { header: ResponseHeader; leases: { id: bigint }[] }

export interface Member { id: bigint; name: string; peerUrls: string[]; clientUrls: string[]; isLearner: boolean }
export interface MemberListResponse { header: ResponseHeader; members: Member[] }
export interface MemberAddResponse { header: ResponseHeader; member: Member; members: Member[] }
export interface MemberRemoveResponse { header: ResponseHeader; members: Member[] }
export interface MemberUpdateResponse { header: ResponseHeader; members: Member[] }
export interface MemberPromoteResponse { header: ResponseHeader; members: Member[] }

export interface StatusResponse {
  header: ResponseHeader; version: string; dbSize: bigint; leader: bigint; raftIndex: bigint;
  raftTerm: bigint; raftAppliedIndex: bigint; errors: string[]; dbSizeInUse: bigint; isLearner: boolean;
}
export interface HashKVResponse { header: ResponseHeader; hash: number; compactRevision: bigint }
export interface AlarmMember { memberId: bigint; alarm: 'NONE' | 'NOSPACE' | 'CORRUPT' }
export interface AlarmResponse { header: ResponseHeader | null; alarms: AlarmMember[] }
export interface MoveLeaderResponse { header: ResponseHeader }
export interface DefragmentResponse { header: ResponseHeader | null }

export interface LockResponse { header: ResponseHeader; key: Buffer }
export interface LeaderKey { name: Buffer; key: Buffer; rev: bigint; lease: bigint }
export interface CampaignResponse { header: ResponseHeader; leader: LeaderKey }
export interface LeaderResponse { header: ResponseHeader; kv: KeyValue | null }

export type PermType = 'READ' | 'WRITE' | 'READWRITE';
export interface Permission { permType: PermType; key: Buffer; rangeEnd: Buffer }
/** Auth responses that carry only a header (user add/delete, role add, grant, ...). */
export interface AuthHeaderResponse { header: ResponseHeader }
export interface AuthUserGetResponse { header: ResponseHeader; roles: string[] }
export interface AuthUserListResponse { header: ResponseHeader; users: string[] }
export interface AuthRoleGetResponse { header: ResponseHeader; perm: Permission[] }
export interface AuthRoleListResponse { header: ResponseHeader; roles: string[] }
export interface AuthEnableResponse { header: ResponseHeader }

/** What `snapshot status` shows about a snapshot file. */
export interface SnapshotStatus { hash: number; revision: bigint; totalKey: bigint; totalSize: bigint }
