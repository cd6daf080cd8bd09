/**
 * Cluster alarms, as etcd's alarm store: a set of (member ID, alarm type) raised and cleared only
 * by applying `alarm` requests from the log, so every member holds the same set. NOSPACE is
 * raised by a member whose data file would pass `--quota-backend-bytes`; while any member has it,
 * every member refuses writes that add data (puts, txns with a put on either branch, lease
 * grants) with etcd's "database space exceeded", and still serves reads, deletes and compaction.
 * The set lives in the store's LMDB environment (table `server.alarms`), written inside the apply
 * transaction, so it commits with the batch and travels in Raft snapshots.
 *
 * Owns the table and the in-memory copy. Must never change except by an applied request.
 */
import type { BinaryDb } from '../mvcc/store.js';

export const ALARM_TABLE_NAME = 'server.alarms';

/** etcd's AlarmType enum: NONE = 0, NOSPACE = 1, CORRUPT = 2. */
export const ALARM_TYPES = ['NONE', 'NOSPACE', 'CORRUPT'] as const;
export type AlarmType = (typeof ALARM_TYPES)[number];

export interface AlarmMember {
  memberId: bigint;
  alarm: AlarmType;
}

export class AlarmTable {
  private active: AlarmMember[] = [];

  constructor(private readonly db: BinaryDb) {
    this.reload();
  }

  /** Reads the table again (at start, and after the store was replaced by a snapshot). */
  reload(): void {
    const out: AlarmMember[] = [];
    for (const { key } of this.db.getRange({})) {
      const k = key as Buffer;
      const type = ALARM_TYPES[k.readUInt8(8)];
      if (type === undefined || type === 'NONE') throw new Error(`alarm table: unknown alarm type ${k.readUInt8(8)}`);
      out.push({ memberId: k.readBigUInt64BE(0), alarm: type });
    }
    this.active = out;
  }

  list(): AlarmMember[] {
    return this.active.map((a) => ({ ...a }));
  }

  /** Whether writes that add data are refused (some member raised NOSPACE). */
  get noSpace(): boolean {
    return this.active.some((a) => a.alarm === 'NOSPACE');
  }

  /**
   * Raises an alarm in memory at once (later requests of the same batch see it) and answers it,
   * as etcd's Activate; `write` records it and must run inside the store's write transaction.
   */
  activate(memberId: bigint, alarm: AlarmType): { alarms: AlarmMember[]; write: () => void } {
    if (alarm === 'NONE') return { alarms: [], write: () => {} };
    const isNew = !this.active.some((a) => a.memberId === memberId && a.alarm === alarm);
    if (isNew) this.active.push({ memberId, alarm });
    const write = () => { if (isNew) void this.db.put(keyOf(memberId, alarm), Buffer.alloc(0)); };
    return { alarms: [{ memberId, alarm }], write };
  }

  /** Clears an alarm and answers what was cleared (nothing if it was not raised, as etcd: `etcdctl
   * alarm disarm` lists the alarms and deactivates each by member and type); `write` as above. */
  deactivate(memberId: bigint, alarm: AlarmType): { alarms: AlarmMember[]; write: () => void } {
    const gone = this.active.filter((a) => a.memberId === memberId && a.alarm === alarm);
    this.active = this.active.filter((a) => !gone.includes(a));
    const write = () => { for (const a of gone) void this.db.remove(keyOf(a.memberId, a.alarm)); };
    return { alarms: gone.map((a) => ({ ...a })), write };
  }
}

function keyOf(memberId: bigint, alarm: AlarmType): Buffer {
  const k = Buffer.alloc(9);
  k.writeBigUInt64BE(memberId, 0);
  k.writeUInt8(ALARM_TYPES.indexOf(alarm), 8);
  return k;
}
