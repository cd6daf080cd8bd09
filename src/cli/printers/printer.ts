/**
 * What every output format implements, one method per command result, as etcdctl 3.4's
 * printer. A format that has no layout for a result ends the command with
 * `Error: <format> not supported as output format` (exit 4), after the request was made,
 * exactly as etcdctl does.
 *
 * Must never: make requests or decide exit codes other than "not supported".
 */
import { CliExit, ExitCode } from '../exit.js';
import type * as T from '../gateway/types.js';

export interface EpHealth { endpoint: string; health: boolean; tookNs: bigint; error: string }
export interface EpStatus { endpoint: string; status: T.StatusResponse }
export interface EpHashKV { endpoint: string; hashKv: T.HashKVResponse }

export interface PrinterSink {
  out(s: string | Uint8Array): void;
  err(s: string): void;
}

export type Format = 'simple' | 'json' | 'fields' | 'table';
export const formats: readonly Format[] = ['simple', 'json', 'fields', 'table'];

export interface PrinterOptions { hex: boolean; valueOnly: boolean }

export abstract class Printer {
  constructor(protected readonly sink: PrinterSink, protected readonly format: Format, protected readonly options: PrinterOptions) {}

  protected unsupported(): never {
    throw new CliExit(ExitCode.BadFeature, `${this.format} not supported as output format`);
  }
  protected line(s = ''): void {
    this.sink.out(s + '\n');
  }

  get(_r: T.RangeResponse): void { this.unsupported(); }
  put(_r: T.PutResponse): void { this.unsupported(); }
  del(_r: T.DeleteRangeResponse): void { this.unsupported(); }
  txn(_r: T.TxnResponse): void { this.unsupported(); }
  watch(_r: T.WatchResponse): void { this.unsupported(); }

  grant(_r: T.LeaseGrantResponse): void { this.unsupported(); }
  revoke(_id: bigint, _r: T.LeaseRevokeResponse): void { this.unsupported(); }
  keepAlive(_r: T.LeaseKeepAliveResponse): void { this.unsupported(); }
  timeToLive(_r: T.LeaseTimeToLiveResponse, _keys: boolean): void { this.unsupported(); }
  leases(_r: T.LeaseLeasesResponse): void { this.unsupported(); }

  memberAdd(_r: T.MemberAddResponse): void { this.unsupported(); }
  memberRemove(_id: bigint, _r: T.MemberRemoveResponse): void { this.unsupported(); }
  memberUpdate(_id: bigint, _r: T.MemberUpdateResponse): void { this.unsupported(); }
  memberPromote(_id: bigint, _r: T.MemberPromoteResponse): void { this.unsupported(); }
  memberList(_r: T.MemberListResponse): void { this.unsupported(); }

  endpointHealth(_h: EpHealth[]): void { this.unsupported(); }
  endpointStatus(_s: EpStatus[]): void { this.unsupported(); }
  endpointHashKv(_h: EpHashKV[]): void { this.unsupported(); }
  alarm(_r: T.AlarmResponse): void { this.unsupported(); }
  moveLeader(_leader: bigint, _target: bigint, _r: T.MoveLeaderResponse): void { this.unsupported(); }
  dbStatus(_s: T.SnapshotStatus): void { this.unsupported(); }

  roleAdd(_role: string, _r: T.AuthHeaderResponse): void { this.unsupported(); }
  roleGet(_role: string, _r: T.AuthRoleGetResponse): void { this.unsupported(); }
  roleList(_r: T.AuthRoleListResponse): void { this.unsupported(); }
  roleDelete(_role: string, _r: T.AuthHeaderResponse): void { this.unsupported(); }
  roleGrantPermission(_role: string, _r: T.AuthHeaderResponse): void { this.unsupported(); }
  roleRevokePermission(_role: string, _key: Buffer, _end: Buffer, _r: T.AuthHeaderResponse): void { this.unsupported(); }
  userAdd(_name: string, _r: T.AuthHeaderResponse): void { this.unsupported(); }
  userGet(_name: string, _r: T.AuthUserGetResponse): void { this.unsupported(); }
  userList(_r: T.AuthUserListResponse): void { this.unsupported(); }
  userChangePassword(_r: T.AuthHeaderResponse): void { this.unsupported(); }
  userGrantRole(_user: string, _role: string, _r: T.AuthHeaderResponse): void { this.unsupported(); }
  userRevokeRole(_user: string, _role: string, _r: T.AuthHeaderResponse): void { this.unsupported(); }
  userDelete(_name: string, _r: T.AuthHeaderResponse): void { this.unsupported(); }
}

/** The rows etcdctl shows for `member list` (simple joins them with ", ", table draws them). */
export function memberListRows(r: T.MemberListResponse): { header: string[]; rows: string[][] } {
  const header = ['ID', 'Status', 'Name', 'Peer Addrs', 'Client Addrs', 'Is Learner'];
  const rows = r.members.map((m) => [
    BigInt.asUintN(64, m.id).toString(16), m.name === '' ? 'unstarted' : 'started', m.name,
    m.peerUrls.join(','), m.clientUrls.join(','), String(m.isLearner),
  ]);
  return { header, rows };
}
