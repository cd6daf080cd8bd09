/**
 * The `simple` format: etcdctl's default, line-oriented output (`OK`, key and value lines,
 * `lease … granted with TTL(60s)`, comma-joined rows). Scripts parse this; every byte counts.
 *
 * Must never: print a field etcdctl does not print in this format.
 */
import type * as T from '../gateway/types.js';
import { goDuration, hex016, hex16Spaces, hexEscaped, humanizeBytes } from './go-format.js';
import { Printer, memberListRows, type EpHashKV, type EpHealth, type EpStatus } from './printer.js';

export class SimplePrinter extends Printer {
  private kv(kv: T.KeyValue): void {
    const k = this.options.hex ? hexEscaped(kv.key) : kv.key;
    const v = this.options.hex ? hexEscaped(kv.value) : kv.value;
    if (!this.options.valueOnly) { this.sink.out(k); this.line(); }
    this.sink.out(v);
    this.line();
  }

  override get(r: T.RangeResponse): void { for (const kv of r.kvs) this.kv(kv); }
  override put(r: T.PutResponse): void {
    this.line('OK');
    if (r.prevKv) this.kv(r.prevKv);
  }
  override del(r: T.DeleteRangeResponse): void {
    this.line(String(r.deleted));
    for (const kv of r.prevKvs) this.kv(kv);
  }
  override txn(r: T.TxnResponse): void {
    this.line(r.succeeded ? 'SUCCESS' : 'FAILURE');
    for (const op of r.responses) {
      this.line();
      if (op.kind === 'range') this.get(op.range);
      else if (op.kind === 'put') this.put(op.put);
      else if (op.kind === 'deleteRange') this.del(op.deleteRange);
      else this.txn(op.txn);
    }
  }
  override watch(r: T.WatchResponse): void {
    for (const e of r.events) {
      this.line(e.type);
      if (e.prevKv) this.kv(e.prevKv);
      this.kv(e.kv);
    }
  }

  override grant(r: T.LeaseGrantResponse): void { this.line(`lease ${hex016(r.id)} granted with TTL(${r.ttl}s)`); }
  override revoke(id: bigint): void { this.line(`lease ${hex016(id)} revoked`); }
  override keepAlive(r: T.LeaseKeepAliveResponse): void { this.line(`lease ${hex016(r.id)} keepalived with TTL(${r.ttl})`); }
  override timeToLive(r: T.LeaseTimeToLiveResponse, keys: boolean): void {
    if (r.grantedTtl === 0n && r.ttl === -1n) {
      this.line(`lease ${hex016(r.id)} already expired`);
      return;
    }
    let txt = `lease ${hex016(r.id)} granted with TTL(${r.grantedTtl}s), remaining(${r.ttl}s)`;
    if (keys) txt += `, attached keys([${r.keys.map((k) => k.toString('utf8')).join(' ')}])`;
    this.line(txt);
  }
  override leases(r: T.LeaseLeasesResponse): void {
    this.line(`found ${r.leases.length} leases`);
    for (const l of r.leases) this.line(hex016(l.id));
  }

  override memberAdd(r: T.MemberAddResponse): void {
    this.line(`Member ${hex16Spaces(r.member.id)} added to cluster ${hex16Spaces(r.header.clusterId)}`);
  }
  override memberRemove(id: bigint, r: T.MemberRemoveResponse): void {
    this.line(`Member ${hex16Spaces(id)} removed from cluster ${hex16Spaces(r.header.clusterId)}`);
  }
  override memberUpdate(id: bigint, r: T.MemberUpdateResponse): void {
    this.line(`Member ${hex16Spaces(id)} updated in cluster ${hex16Spaces(r.header.clusterId)}`);
  }
  override memberPromote(id: bigint, r: T.MemberPromoteResponse): void {
    this.line(`Member ${hex16Spaces(id)} promoted in cluster ${hex16Spaces(r.header.clusterId)}`);
  }
  override memberList(r: T.MemberListResponse): void {
    for (const row of memberListRows(r).rows) this.line(row.join(', '));
  }

  override endpointHealth(hs: EpHealth[]): void {
    for (const h of hs) {
      if (h.error === '') this.sink.err(`${h.endpoint} is healthy: successfully committed proposal: took = ${goDuration(h.tookNs)}\n`);
      else this.sink.err(`${h.endpoint} is unhealthy: failed to commit proposal: ${h.error}\n`);
    }
  }
  override endpointStatus(list: EpStatus[]): void {
    for (const row of endpointStatusRows(list).rows) this.line(row.join(', '));
  }
  override endpointHashKv(list: EpHashKV[]): void {
    for (const row of endpointHashKvRows(list).rows) this.line(row.join(', '));
  }
  override alarm(r: T.AlarmResponse): void {
    for (const a of r.alarms) this.line(`memberID:${BigInt.asUintN(64, a.memberId)} alarm:${a.alarm} `);
  }
  override moveLeader(leader: bigint, target: bigint): void {
    this.line(`Leadership transferred from ${BigInt.asUintN(64, leader).toString(16)} to ${BigInt.asUintN(64, target).toString(16)}`);
  }
  override dbStatus(s: T.SnapshotStatus): void {
    this.line(dbStatusRows(s).rows[0].join(', '));
  }

  override roleAdd(role: string): void { this.line(`Role ${role} created`); }
  override roleGet(role: string, r: T.AuthRoleGetResponse): void { this.sink.out(roleGetText(role, r)); }
  override roleList(r: T.AuthRoleListResponse): void { for (const x of r.roles) this.line(x); }
  override roleDelete(role: string): void { this.line(`Role ${role} deleted`); }
  override roleGrantPermission(role: string): void { this.line(`Role ${role} updated`); }
  override roleRevokePermission(role: string, key: Buffer, end: Buffer): void {
    if (end.length === 0) this.line(`Permission of key ${key} is revoked from role ${role}`);
    else if (!(end.length === 1 && end[0] === 0)) this.line(`Permission of range [${key}, ${end}) is revoked from role ${role}`);
    else this.line(`Permission of range [${key}, <open ended> is revoked from role ${role}`);
  }
  override userAdd(name: string): void { this.line(`User ${name} created`); }
  override userGet(name: string, r: T.AuthUserGetResponse): void {
    this.line(`User: ${name}`);
    this.line('Roles:' + r.roles.map((x) => ' ' + x).join(''));
  }
  override userList(r: T.AuthUserListResponse): void { for (const u of r.users) this.line(u); }
  override userChangePassword(): void { this.line('Password updated'); }
  override userGrantRole(user: string, role: string): void { this.line(`Role ${role} is granted to user ${user}`); }
  override userRevokeRole(user: string, role: string): void { this.line(`Role ${role} is revoked from user ${user}`); }
  override userDelete(name: string): void { this.line(`User ${name} deleted`); }
}

/** etcd's prefix range end: the key with its last byte below 0xff incremented, trailing 0xff dropped. */
export function prefixRangeEnd(key: Buffer): Buffer {
  const end = Buffer.from(key);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

function roleGetText(role: string, r: T.AuthRoleGetResponse): string {
  let out = `Role ${role}\nKV Read:\n`;
  const perm = (p: T.Permission): string => {
    if (p.rangeEnd.length === 0) return `\t${p.key}\n`;
    const openEnded = p.rangeEnd.length === 1 && p.rangeEnd[0] === 0;
    let s = openEnded ? `\t[${p.key}, <open ended>` : `\t[${p.key}, ${p.rangeEnd})`;
    if (prefixRangeEnd(p.key).equals(p.rangeEnd)) s += ` (prefix ${p.key})`;
    return s + '\n';
  };
  for (const p of r.perm) if (p.permType === 'READ' || p.permType === 'READWRITE') out += perm(p);
  out += 'KV Write:\n';
  for (const p of r.perm) if (p.permType === 'WRITE' || p.permType === 'READWRITE') out += perm(p);
  return out;
}

export function endpointStatusRows(list: EpStatus[]): { header: string[]; rows: string[][] } {
  const header = ['endpoint', 'ID', 'version', 'db size', 'is leader', 'is learner', 'raft term', 'raft index', 'raft applied index', 'errors'];
  const rows = list.map(({ endpoint, status: s }) => [
    endpoint, BigInt.asUintN(64, s.header.memberId).toString(16), s.version, humanizeBytes(s.dbSize),
    String(s.leader === s.header.memberId), String(s.isLearner), String(s.raftTerm), String(s.raftIndex),
    String(s.raftAppliedIndex), s.errors.join(', '),
  ]);
  return { header, rows };
}

export function endpointHealthRows(hs: EpHealth[]): { header: string[]; rows: string[][] } {
  return {
    header: ['endpoint', 'health', 'took', 'error'],
    rows: hs.map((h) => [h.endpoint, String(h.health), goDuration(h.tookNs), h.error]),
  };
}

export function endpointHashKvRows(list: EpHashKV[]): { header: string[]; rows: string[][] } {
  return { header: ['endpoint', 'hash'], rows: list.map((h) => [h.endpoint, String(h.hashKv.hash)]) };
}

export function dbStatusRows(s: T.SnapshotStatus): { header: string[]; rows: string[][] } {
  return {
    header: ['hash', 'revision', 'total keys', 'total size'],
    rows: [[s.hash.toString(16), String(s.revision), String(s.totalKey), humanizeBytes(s.totalSize)]],
  };
}
