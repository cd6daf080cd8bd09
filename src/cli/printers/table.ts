/**
 * The `table` format: only the results etcdctl draws as tables (member list, endpoint health,
 * status and hashkv, snapshot status); everything else is "table not supported as output format".
 *
 * Must never: invent a table layout etcdctl does not have.
 */
import type * as T from '../gateway/types.js';
import { Printer, memberListRows, type EpHashKV, type EpHealth, type EpStatus } from './printer.js';
import { dbStatusRows, endpointHashKvRows, endpointHealthRows, endpointStatusRows } from './simple.js';
import { renderTable } from './table-layout.js';

export class TablePrinter extends Printer {
  private table(t: { header: string[]; rows: string[][] }): void {
    this.sink.out(renderTable(t.header, t.rows));
  }
  override memberList(r: T.MemberListResponse): void { this.table(memberListRows(r)); }
  override endpointHealth(hs: EpHealth[]): void { this.table(endpointHealthRows(hs)); }
  override endpointStatus(list: EpStatus[]): void { this.table(endpointStatusRows(list)); }
  override endpointHashKv(list: EpHashKV[]): void { this.table(endpointHashKvRows(list)); }
  override dbStatus(s: T.SnapshotStatus): void { this.table(dbStatusRows(s)); }
}
