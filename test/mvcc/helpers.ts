/** Test helpers for the mvcc store: fresh temp dirs, byte shorthands, one-write batches. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MvccStore, type MvccOptions } from '../../src/mvcc/store.js';
import type { KeyValue, RequestOp, TxnRequest, WriteOutcome, WriteRequest, Event, RangeRequest } from '../../src/mvcc/types.js';

export const b = (s: string): Buffer => Buffer.from(s);
export const s = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

export interface TempStore {
  store: MvccStore;
  dir: string;
  reopen(opts?: Partial<MvccOptions>): Promise<MvccStore>;
  cleanup(): Promise<void>;
}

export function tempStore(opts: Partial<MvccOptions> = {}): TempStore {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-mvcc-test-'));
  const ts: TempStore = {
    store: MvccStore.open({ dir, ...opts }),
    dir,
    async reopen(more = {}) {
      await ts.store.close();
      ts.store = MvccStore.open({ dir, ...opts, ...more });
      return ts.store;
    },
    async cleanup() {
      await ts.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return ts;
}

/** Applies one write; returns its outcome and the batch's events. */
export async function apply1(store: MvccStore, w: WriteRequest, leases: bigint[] = []): Promise<{ outcome: WriteOutcome; events: Event[] }> {
  const { outcomes, events } = await store.applyBatch([w], { leaseExists: (id) => leases.includes(id) });
  return { outcome: outcomes[0], events };
}

export async function put(store: MvccStore, key: string, value: string, lease = 0n): Promise<WriteOutcome> {
  return (await apply1(store, { put: { key: b(key), value: b(value), lease } }, lease ? [lease] : [])).outcome;
}

export async function del(store: MvccStore, key: string, rangeEnd?: string): Promise<WriteOutcome> {
  return (await apply1(store, { deleteRange: { key: b(key), ...(rangeEnd !== undefined ? { rangeEnd: b(rangeEnd) } : {}) } })).outcome;
}

export async function txn(store: MvccStore, t: TxnRequest): Promise<WriteOutcome> {
  return (await apply1(store, { txn: t })).outcome;
}

export function get(store: MvccStore, key: string, revision = 0n): KeyValue | undefined {
  return store.range({ key: b(key), revision }).kvs[0];
}

export function keysOf(store: MvccStore, req: RangeRequest): string[] {
  return store.range(req).kvs.map((kv) => s(kv.key));
}

export function errorKind(o: WriteOutcome): string | undefined {
  return o.ok ? undefined : (o.error as { kind?: string }).kind;
}

export function opPut(key: string, value: string): RequestOp {
  return { put: { key: b(key), value: b(value) } };
}
