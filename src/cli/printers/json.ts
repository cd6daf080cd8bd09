/**
 * The `json` format: each result as etcdctl 3.4 marshals it with Go's encoding/json — the
 * protobuf structs' JSON tags (snake_case, zero values omitted), int64 and uint64 as bare
 * numbers (exact, from bigint), bytes as base64; clientv3's own structs where etcdctl prints
 * those (watch, lease grant/keep-alive/time-to-live/list).
 *
 * Must never: round a 64-bit number, or reorder fields (Go writes struct order).
 */
import { b64 } from '../gateway/codec.js';
import type * as T from '../gateway/types.js';
import { asUint64, goDuration, goJson } from './go-format.js';
import { Printer, type EpHashKV, type EpHealth, type EpStatus } from './printer.js';

type J = Record<string, unknown>;

/** Drops zero values, as `omitempty` does. */
function omit(o: J): J {
  const r: J = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null || v === 0n || v === 0 || v === '' || v === false) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    r[k] = v;
  }
  return r;
}

function headerFields(h: T.ResponseHeader): J {
  return omit({ cluster_id: asUint64(h.clusterId), member_id: asUint64(h.memberId), revision: h.revision, raft_term: asUint64(h.raftTerm) });
}
/** `header` as a pointer field: absent when the server sent none (all zero). */
export function header(h: T.ResponseHeader | null): J | undefined {
  if (h === null) return undefined;
  const f = headerFields(h);
  return Object.keys(f).length === 0 ? undefined : f;
}
function kv(k: T.KeyValue | null): J | undefined {
  if (k === null) return undefined;
  return omit({
    key: k.key.length ? b64(k.key) : '', create_revision: k.createRevision, mod_revision: k.modRevision,
    version: k.version, value: k.value.length ? b64(k.value) : '', lease: k.lease,
  });
}
export function rangeJson(r: T.RangeResponse): J {
  return omit({ header: header(r.header), kvs: r.kvs.map(kv), more: r.more, count: r.count });
}
function putJson(r: T.PutResponse): J {
  return omit({ header: header(r.header), prev_kv: kv(r.prevKv) });
}
function delJson(r: T.DeleteRangeResponse): J {
  return omit({ header: header(r.header), deleted: r.deleted, prev_kvs: r.prevKvs.map(kv) });
}
function txnJson(r: T.TxnResponse): J {
  const responses = r.responses.map((op) => {
    if (op.kind === 'range') return { Response: { ResponseRange: rangeJson(op.range) } };
    if (op.kind === 'put') return { Response: { ResponsePut: putJson(op.put) } };
    if (op.kind === 'deleteRange') return { Response: { ResponseDeleteRange: delJson(op.deleteRange) } };
    return { Response: { ResponseTxn: txnJson(op.txn) } };
  });
  return omit({ header: header(r.header), succeeded: r.succeeded, responses });
}
function member(m: T.Member): J {
  return omit({ ID: asUint64(m.id), name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner });
}
function members(h: T.ResponseHeader, ms: T.Member[], extra: J = {}): J {
  return omit({ header: header(h), ...extra, members: ms.map(member) });
}
function statusJson(s: T.StatusResponse): J {
  return omit({
    header: header(s.header), version: s.version, dbSize: s.dbSize, leader: asUint64(s.leader),
    raftIndex: asUint64(s.raftIndex), raftTerm: asUint64(s.raftTerm), raftAppliedIndex: asUint64(s.raftAppliedIndex),
    errors: s.errors, dbSizeInUse: s.dbSizeInUse, isLearner: s.isLearner,
  });
}
const alarmNumber = { NONE: 0, NOSPACE: 1, CORRUPT: 2 } as const;
const permNumber = { READ: 0, WRITE: 1, READWRITE: 2 } as const;

export class JsonPrinter extends Printer {
  private print(v: unknown): void { this.line(goJson(v)); }

  override get(r: T.RangeResponse): void { this.print(rangeJson(r)); }
  override put(r: T.PutResponse): void { this.print(putJson(r)); }
  override del(r: T.DeleteRangeResponse): void { this.print(delJson(r)); }
  override txn(r: T.TxnResponse): void { this.print(txnJson(r)); }
  override watch(r: T.WatchResponse): void {
    const events = r.events.map((e) => omit({ type: e.type === 'DELETE' ? 1 : 0, kv: kv(e.kv), prev_kv: kv(e.prevKv) }));
    this.print({
      Header: headerFields(r.header), Events: events.length ? events : null,
      CompactRevision: r.compactRevision, Canceled: r.canceled, Created: r.created,
    });
  }

  override grant(r: T.LeaseGrantResponse): void { this.print({ ...headerFields(r.header), ID: r.id, TTL: r.ttl, Error: r.error }); }
  override revoke(_id: bigint, r: T.LeaseRevokeResponse): void { this.print(omit({ header: header(r.header) })); }
  override keepAlive(r: T.LeaseKeepAliveResponse): void { this.print({ ...headerFields(r.header), ID: r.id, TTL: r.ttl }); }
  override timeToLive(r: T.LeaseTimeToLiveResponse): void {
    this.print({
      ...headerFields(r.header), id: r.id, ttl: r.ttl, 'granted-ttl': r.grantedTtl,
      keys: r.keys.length ? r.keys.map((k) => b64(k)) : null,
    });
  }
  override leases(r: T.LeaseLeasesResponse): void {
    // clientv3 builds this list itself: an empty one is [], not null.
    this.print({ ...headerFields(r.header), leases: r.leases.map((l) => ({ id: l.id })) });
  }

  override memberAdd(r: T.MemberAddResponse): void { this.print(members(r.header, r.members, { member: member(r.member) })); }
  override memberRemove(_id: bigint, r: T.MemberRemoveResponse): void { this.print(members(r.header, r.members)); }
  override memberUpdate(_id: bigint, r: T.MemberUpdateResponse): void { this.print(members(r.header, r.members)); }
  override memberPromote(_id: bigint, r: T.MemberPromoteResponse): void { this.print(members(r.header, r.members)); }
  override memberList(r: T.MemberListResponse): void { this.print(members(r.header, r.members)); }

  override endpointHealth(hs: EpHealth[]): void {
    // health and took are always written; error only when set (`json:"error,omitempty"`).
    this.print(hs.map((h) => ({ endpoint: h.endpoint, health: h.health, took: goDuration(h.tookNs), error: h.error || undefined })));
  }
  override endpointStatus(list: EpStatus[]): void {
    this.print(list.map((s) => ({ Endpoint: s.endpoint, Status: statusJson(s.status) })));
  }
  override endpointHashKv(list: EpHashKV[]): void {
    this.print(list.map((h) => ({
      Endpoint: h.endpoint,
      HashKV: omit({ header: header(h.hashKv.header), hash: h.hashKv.hash, compact_revision: h.hashKv.compactRevision }),
    })));
  }
  override alarm(r: T.AlarmResponse): void {
    const alarms = r.alarms.map((a) => omit({ memberID: asUint64(a.memberId), alarm: alarmNumber[a.alarm] }));
    this.print(omit({ header: header(r.header), alarms }));
  }
  override moveLeader(_l: bigint, _t: bigint, r: T.MoveLeaderResponse): void { this.print(omit({ header: header(r.header) })); }
  override dbStatus(s: T.SnapshotStatus): void {
    this.print({ hash: s.hash, revision: s.revision, totalKey: s.totalKey, totalSize: s.totalSize });
  }

  private headerOnly(r: { header: T.ResponseHeader }): void { this.print(omit({ header: header(r.header) })); }
  override roleAdd(_role: string, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override roleGet(_role: string, r: T.AuthRoleGetResponse): void {
    const perm = r.perm.map((p) => omit({ permType: permNumber[p.permType], key: b64(p.key), range_end: b64(p.rangeEnd) }));
    this.print(omit({ header: header(r.header), perm }));
  }
  override roleList(r: T.AuthRoleListResponse): void { this.print(omit({ header: header(r.header), roles: r.roles })); }
  override roleDelete(_role: string, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override roleGrantPermission(_role: string, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override roleRevokePermission(_role: string, _k: Buffer, _e: Buffer, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override userAdd(_name: string, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override userGet(_name: string, r: T.AuthUserGetResponse): void { this.print(omit({ header: header(r.header), roles: r.roles })); }
  override userList(r: T.AuthUserListResponse): void { this.print(omit({ header: header(r.header), users: r.users })); }
  override userChangePassword(r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override userGrantRole(_u: string, _r: string, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override userRevokeRole(_u: string, _r: string, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override userDelete(_name: string, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
}
