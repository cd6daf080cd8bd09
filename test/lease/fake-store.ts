/**
 * A small in-memory twin of the MVCC store for unit tests of the lessor's apply step and the
 * watch hub: single-key puts and deletes, txns of those, revisions, events with prev_kv, history
 * for eventsSince, compaction, and the lease → keys index. Not a model of etcd in general: only
 * what those tests exercise.
 */
import { CairnError } from '../../src/errors/errors.js';
import type { Event, KeyValue, RequestOp, WriteOutcome, WriteRequest } from '../../src/mvcc/types.js';
import type { ApplyBatchOptions } from '../../src/server/lease-apply.js';

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');

export class FakeStore {
  currentRevision = 1n;
  compactRevision = 0n;
  readonly latest = new Map<string, KeyValue>();
  readonly history: Event[] = [];
  applyCalls = 0;
  tableWrites = 0;

  applyBatch(writes: WriteRequest[], opts: ApplyBatchOptions = {}): { outcomes: WriteOutcome[]; events: Event[] } {
    this.applyCalls++;
    const outcomes: WriteOutcome[] = [];
    const events: Event[] = [];
    for (const w of writes) {
      const evs: Event[] = [];
      try {
        const result = this.applyOne(w, evs, opts);
        if (evs.length > 0) this.currentRevision += 1n;
        for (const e of evs) e.kv.modRevision = this.currentRevision;
        for (const e of evs) if (e.type === 'PUT' && e.kv.version === 1n) e.kv.createRevision = this.currentRevision;
        for (const e of evs) if (e.type === 'PUT') this.latest.set(hexOf(e.kv.key), e.kv);
        this.history.push(...evs);
        events.push(...evs);
        outcomes.push({ ok: true, result, revision: this.currentRevision } as WriteOutcome);
      } catch (e) {
        outcomes.push({ ok: false, error: e as Error, revision: this.currentRevision });
      }
    }
    opts.inTxn?.();
    return { outcomes, events };
  }

  private applyOne(w: WriteRequest | RequestOp, evs: Event[], opts: ApplyBatchOptions): any {
    if ('put' in w) {
      const lease = w.put.lease ?? 0n;
      if (lease !== 0n && !(opts.leaseExists?.(lease) ?? false)) throw new CairnError('LeaseNotFound');
      const prev = this.latest.get(hexOf(w.put.key));
      evs.push({
        type: 'PUT',
        kv: { key: w.put.key, value: w.put.value, lease, version: (prev?.version ?? 0n) + 1n, createRevision: prev?.createRevision ?? 0n, modRevision: 0n },
        ...(prev ? { prevKv: prev } : {}),
      });
      return { put: {} };
    }
    if ('deleteRange' in w) {
      const prev = this.latest.get(hexOf(w.deleteRange.key));
      if (prev) {
        this.latest.delete(hexOf(w.deleteRange.key));
        evs.push({ type: 'DELETE', kv: { key: prev.key, value: new Uint8Array(), lease: 0n, version: 0n, createRevision: 0n, modRevision: 0n }, prevKv: prev });
      }
      return { deleteRange: { deleted: prev ? 1n : 0n, prevKvs: [] } };
    }
    if ('txn' in w) {
      for (const op of w.txn.success) this.applyOne(op, evs, opts);
      return { txn: { succeeded: true, responses: [] } };
    }
    if ('compaction' in w) {
      this.compactRevision = w.compaction.revision;
      return { compaction: {} };
    }
    throw new Error('fake store: unsupported op');
  }

  keysOfLease(lease: bigint): Uint8Array[] {
    return [...this.latest.values()].filter((kv) => kv.lease === lease).map((kv) => kv.key);
  }

  eventsSince(fromRevision: bigint, maxEvents: number): { events: Event[]; nextRevision: bigint } {
    if (fromRevision < this.compactRevision) throw new CairnError('Compacted');
    const events: Event[] = [];
    let next = fromRevision;
    for (const e of this.history) {
      if (e.kv.modRevision < fromRevision) continue;
      if (events.length >= maxEvents && e.kv.modRevision !== events[events.length - 1].kv.modRevision) break;
      events.push(e);
      next = e.kv.modRevision + 1n;
    }
    if (events.length === 0) next = this.currentRevision + 1n > fromRevision ? this.currentRevision + 1n : fromRevision;
    return { events, nextRevision: next };
  }
}
