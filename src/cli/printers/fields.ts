/**
 * The `fields` format: one `"Name" : value` line per field, as etcdctl's fields printer —
 * byte strings quoted Go-style (`%q`), numbers in decimal, booleans as true/false.
 *
 * Must never: honour --hex (etcdctl's fields output ignores it).
 */
import type * as T from '../gateway/types.js';
import { asUint64, goDuration, goQuote } from './go-format.js';
import { Printer, type EpHashKV, type EpHealth, type EpStatus } from './printer.js';

export class FieldsPrinter extends Printer {
  private f(name: string, value: string | bigint | number | boolean): void {
    this.line(`"${name}" : ${value}`);
  }
  private hdr(h: T.ResponseHeader | null): void {
    const z: T.ResponseHeader = h ?? { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };
    this.f('ClusterID', asUint64(z.clusterId));
    this.f('MemberID', asUint64(z.memberId));
    this.f('Revision', z.revision);
    this.f('RaftTerm', asUint64(z.raftTerm));
  }
  private kv(prefix: string, kv: T.KeyValue): void {
    this.f(`${prefix}Key`, goQuote(kv.key));
    this.f(`${prefix}CreateRevision`, kv.createRevision);
    this.f(`${prefix}ModRevision`, kv.modRevision);
    this.f(`${prefix}Version`, kv.version);
    this.f(`${prefix}Value`, goQuote(kv.value));
    this.f(`${prefix}Lease`, kv.lease);
  }

  override get(r: T.RangeResponse): void {
    this.hdr(r.header);
    for (const kv of r.kvs) this.kv('', kv);
    this.f('More', r.more);
    this.f('Count', r.count);
  }
  override put(r: T.PutResponse): void {
    this.hdr(r.header);
    if (r.prevKv) this.kv('Prev', r.prevKv);
  }
  override del(r: T.DeleteRangeResponse): void {
    this.hdr(r.header);
    this.f('Deleted', r.deleted);
    for (const kv of r.prevKvs) this.kv('Prev', kv);
  }
  override txn(r: T.TxnResponse): void {
    this.hdr(r.header);
    this.f('Succeeded', r.succeeded);
    for (const op of r.responses) {
      if (op.kind === 'range') this.get(op.range);
      else if (op.kind === 'put') this.put(op.put);
      else if (op.kind === 'deleteRange') this.del(op.deleteRange);
      else this.txn(op.txn);
    }
  }
  override watch(r: T.WatchResponse): void {
    this.hdr(r.header);
    for (const e of r.events) {
      this.f('Type', e.type);
      if (e.prevKv) this.kv('Prev', e.prevKv);
      this.kv('', e.kv);
    }
  }

  override grant(r: T.LeaseGrantResponse): void {
    this.hdr(r.header);
    this.f('ID', r.id);
    this.f('TTL', r.ttl);
  }
  override revoke(_id: bigint, r: T.LeaseRevokeResponse): void { this.hdr(r.header); }
  override keepAlive(r: T.LeaseKeepAliveResponse): void {
    this.hdr(r.header);
    this.f('ID', r.id);
    this.f('TTL', r.ttl);
  }
  override timeToLive(r: T.LeaseTimeToLiveResponse): void {
    this.hdr(r.header);
    this.f('ID', r.id);
    this.f('TTL', r.ttl);
    this.f('GrantedTTL', r.grantedTtl);
    for (const k of r.keys) this.f('Key', goQuote(k));
  }
  override leases(r: T.LeaseLeasesResponse): void {
    this.hdr(r.header);
    for (const l of r.leases) this.f('ID', l.id);
  }

  override memberList(r: T.MemberListResponse): void {
    this.hdr(r.header);
    for (const m of r.members) {
      this.f('ID', asUint64(m.id));
      this.f('Name', goQuote(m.name));
      for (const u of m.peerUrls) this.f('PeerURL', goQuote(u));
      for (const u of m.clientUrls) this.f('ClientURL', goQuote(u));
      this.f('IsLearner', m.isLearner);
      this.line();
    }
  }
  override endpointHealth(hs: EpHealth[]): void {
    for (const h of hs) {
      this.f('Endpoint', goQuote(h.endpoint));
      this.f('Health', h.health);
      this.f('Took', goDuration(h.tookNs));
      this.line(`"Error" : ${h.error}`);
      this.line();
    }
  }
  override endpointStatus(list: EpStatus[]): void {
    for (const { endpoint, status: s } of list) {
      this.hdr(s.header);
      this.f('Version', goQuote(s.version));
      this.f('DBSize', s.dbSize);
      this.f('Leader', asUint64(s.leader));
      this.f('IsLearner', s.isLearner);
      this.f('RaftIndex', asUint64(s.raftIndex));
      this.f('RaftTerm', asUint64(s.raftTerm));
      this.f('RaftAppliedIndex', asUint64(s.raftAppliedIndex));
      this.f('Errors', `[${s.errors.join(' ')}]`);
      this.f('Endpoint', goQuote(endpoint));
      this.line();
    }
  }
  override endpointHashKv(list: EpHashKV[]): void {
    for (const h of list) {
      this.hdr(h.hashKv.header);
      this.f('Endpoint', goQuote(h.endpoint));
      this.f('Hash', h.hashKv.hash);
      this.line();
    }
  }
  override alarm(r: T.AlarmResponse): void {
    this.hdr(r.header);
    for (const a of r.alarms) {
      this.f('MemberID', asUint64(a.memberId));
      this.f('AlarmType', a.alarm);
      this.line();
    }
  }
  override dbStatus(s: T.SnapshotStatus): void {
    this.f('Hash', s.hash);
    this.f('Revision', s.revision);
    this.f('Keys', s.totalKey);
    this.f('Size', s.totalSize);
  }

  private headerOnly(r: { header: T.ResponseHeader }): void { this.hdr(r.header); }
  override roleAdd(_role: string, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override roleGet(_role: string, r: T.AuthRoleGetResponse): void {
    this.hdr(r.header);
    for (const p of r.perm) {
      this.line(`"PermType" :  ${p.permType}`);
      this.f('Key', goQuote(p.key));
      this.f('RangeEnd', goQuote(p.rangeEnd));
    }
  }
  override roleList(r: T.AuthRoleListResponse): void {
    this.hdr(r.header);
    this.line('"Roles" :' + r.roles.map((x) => ' ' + goQuote(x)).join(''));
  }
  override roleDelete(_role: string, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override roleGrantPermission(_role: string, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override roleRevokePermission(_role: string, _k: Buffer, _e: Buffer, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override userAdd(_name: string, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override userGet(_name: string, r: T.AuthUserGetResponse): void {
    this.hdr(r.header);
    this.line('"Roles" :' + r.roles.map((x) => ' ' + goQuote(x)).join(''));
  }
  override userList(r: T.AuthUserListResponse): void {
    this.hdr(r.header);
    this.line('"Users" :' + r.users.map((x) => ' ' + goQuote(x)).join(''));
  }
  override userChangePassword(r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override userGrantRole(_u: string, _r: string, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override userRevokeRole(_u: string, _r: string, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
  override userDelete(_name: string, r: T.AuthHeaderResponse): void { this.headerOnly(r); }
}
