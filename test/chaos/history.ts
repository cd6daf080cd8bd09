/**
 * What a chaos campaign records, as saved to its JSON history file: client operations (invoke
 * and completion, monotonic nanoseconds as decimal strings), fault windows, and every event each
 * member's watch stream delivered. The same file is the input of `analyze` (history-check.ts),
 * live and on replay.
 *
 * Owns: the record shapes and the recorder. Must never: hold more than `maxRecordedOps` ops
 * (a campaign past it stops its clients and says so).
 */

export const historyFormatVersion = 1;
export const maxRecordedOps = 2_000_000;

/** ok: acknowledged; fail: definitely did not take effect; info: indeterminate. */
export type OpStatus = 'ok' | 'fail' | 'info';

export type OpKind = 'read' | 'write' | 'cas' | 'delete';

export interface OpRecord {
  id: number;
  client: number;
  member: string;
  key: string;
  kind: OpKind;
  /** write and cas: the (unique) value written. */
  value?: string;
  /** cas: the value compared. */
  expect?: string;
  /** a write attached to this lease (decimal ID). */
  lease?: string;
  invokeNs: string;
  completeNs: string | null;
  status: OpStatus | null;
  /** read: the value seen (null = absent); cas: succeeded; delete: count. */
  read?: string | null;
  succeeded?: boolean;
  deleted?: number;
  error?: string;
}

export interface FaultRecord {
  kind: string;
  detail: string;
  startNs: string;
  endNs: string | null;
  error?: string;
}

export interface WatchEventRecord {
  rev: number;
  key: string;
  type: 'PUT' | 'DELETE';
  value?: string;
  lease?: string;
  atNs: string;
}

export interface HistoryFile {
  format: number;
  seed: number;
  nodes: number;
  timeSec: number;
  faults: string[];
  startedAt: string;
  startNs: string;
  endNs: string;
  /** When the workload stopped and the final (healed) reads began. */
  healedNs: string;
  ops: OpRecord[];
  faultLog: FaultRecord[];
  /** Per member name: every watch event its streams delivered, in delivery order. */
  watch: Record<string, WatchEventRecord[]>;
  /** Keys that only lease-attached puts and reads touch (every delete there is an expiry). */
  leaseKeys: string[];
  notes: string[];
}

export function nowNs(): bigint {
  return process.hrtime.bigint();
}

/** Appends ops and faults; hands out op ids. */
export class Recorder {
  readonly ops: OpRecord[] = [];
  readonly faultLog: FaultRecord[] = [];
  readonly notes: string[] = [];

  full(): boolean {
    return this.ops.length >= maxRecordedOps;
  }

  invoke(fields: Omit<OpRecord, 'id' | 'invokeNs' | 'completeNs' | 'status'>): OpRecord {
    const rec: OpRecord = { ...fields, id: this.ops.length, invokeNs: nowNs().toString(), completeNs: null, status: null };
    this.ops.push(rec);
    return rec;
  }

  complete(rec: OpRecord, status: OpStatus, result: Partial<Pick<OpRecord, 'read' | 'succeeded' | 'deleted' | 'error'>> = {}): void {
    rec.completeNs = nowNs().toString();
    rec.status = status;
    Object.assign(rec, result);
  }

  faultStart(kind: string, detail: string): FaultRecord {
    const f: FaultRecord = { kind, detail, startNs: nowNs().toString(), endNs: null };
    this.faultLog.push(f);
    return f;
  }

  faultEnd(f: FaultRecord, error?: string): void {
    f.endNs = nowNs().toString();
    if (error !== undefined) f.error = error;
  }
}
