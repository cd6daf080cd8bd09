/**
 * Benchmark of the mvcc store on a 1,000,000-key data dir: open time (must not grow with the
 * number of keys), one point read after open, then put and range throughput on the store
 * directly (no server, no HTTP), then compaction of the history the put phase made.
 *
 * The filled dir is kept under os.tmpdir() and reused across runs (filling takes a while).
 * Set MVCC_BENCH_KEYS to use another size. Prints one human line per phase and, last,
 * `BENCH_RESULT {...}` JSON. Each phase is bounded in time.
 */
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MvccStore } from '../src/mvcc/store.js';
import { MVCC_LAYOUT_VERSION } from '../src/mvcc/tables.js';
import type { WriteRequest } from '../src/mvcc/types.js';

const KEY_COUNT = Number(process.env.MVCC_BENCH_KEYS ?? 1_000_000);
const FILL_BATCH_KEYS = 10_000;
const VALUE_BYTES = 64;
const PHASE_MS = 2_000;
const PUT_BATCH = 100;
const DIR = join(tmpdir(), `cairn-mvcc-open-bench-${KEY_COUNT}-layout${MVCC_LAYOUT_VERSION}`);

const keyOf = (i: number): Buffer => Buffer.from(`/registry/pods/ns-${String(i % 1000).padStart(4, '0')}/pod-${String(i).padStart(8, '0')}`);
const value = Buffer.alloc(VALUE_BYTES, 0x61);

async function fill(): Promise<number> {
  if (existsSync(DIR)) {
    const probe = MvccStore.open({ dir: DIR });
    const live = probe.tableCounts().liveKeys;
    await probe.close();
    if (live >= KEY_COUNT) return 0;
    rmSync(DIR, { recursive: true, force: true });
  }
  const started = performance.now();
  const store = MvccStore.open({ dir: DIR });
  for (let first = 0; first < KEY_COUNT; first += FILL_BATCH_KEYS) {
    const writes: WriteRequest[] = [];
    for (let i = first; i < Math.min(KEY_COUNT, first + FILL_BATCH_KEYS); i++) writes.push({ put: { key: keyOf(i), value } });
    await store.applyBatch(writes);
  }
  await store.close();
  return performance.now() - started;
}

function measureOpen(): { store: MvccStore; openMs: number; firstReadUs: number } {
  const t0 = performance.now();
  const store = MvccStore.open({ dir: DIR });
  const openMs = performance.now() - t0;
  const t1 = performance.now();
  const r = store.range({ key: keyOf(KEY_COUNT >> 1) });
  const firstReadUs = (performance.now() - t1) * 1000;
  if (r.kvs.length !== 1) throw new Error('bench: point read after open found nothing');
  return { store, openMs, firstReadUs };
}

/** CPU microseconds per op of the last measured phase: steadier than ops/s on a shared machine. */
const cpuUsPerOp: Record<string, number> = {};

function cpuSince(start: NodeJS.CpuUsage, ops: number): number {
  const used = process.cpuUsage(start);
  return Number(((used.user + used.system) / Math.max(ops, 1)).toFixed(1));
}

function opsPerSec(name: string, run: () => number): number {
  let ops = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < PHASE_MS) ops += run();
  cpuUsPerOp[name] = cpuSince(cpu0, ops);
  return Math.round(ops / ((performance.now() - t0) / 1000));
}

async function putThroughput(store: MvccStore): Promise<{ putOpsPerSec: number; putSyncedOpsPerSec: number }> {
  let n = 0;
  const batch = (): WriteRequest[] => Array.from({ length: PUT_BATCH }, () => ({ put: { key: keyOf((n++ * 7919) % KEY_COUNT), value } }));
  const putOpsPerSec = opsPerSec('put', () => { void store.applyBatch(batch()); return PUT_BATCH; });
  let ops = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < PHASE_MS) {
    await store.applyBatch(batch());
    await store.sync();
    ops += PUT_BATCH;
  }
  return { putOpsPerSec, putSyncedOpsPerSec: Math.round(ops / ((performance.now() - t0) / 1000)) };
}

function rangeThroughput(store: MvccStore, past: bigint): { rangeOpsPerSec: number; range10OpsPerSec: number; pastRangeOpsPerSec: number } {
  let i = 0;
  const rangeOpsPerSec = opsPerSec('range', () => { store.range({ key: keyOf((i++ * 104729) % KEY_COUNT) }); return 1; });
  const prefix = (j: number) => Buffer.from(`/registry/pods/ns-${String(j % 1000).padStart(4, '0')}/`);
  const range10OpsPerSec = opsPerSec('range10', () => {
    const p = prefix(i++);
    const end = Buffer.from(p); end[end.length - 1]++;
    store.range({ key: p, rangeEnd: end, limit: 10n });
    return 1;
  });
  const pastRangeOpsPerSec = opsPerSec('pastRange', () => { store.range({ key: keyOf((i++ * 104729) % KEY_COUNT), revision: past }); return 1; });
  return { rangeOpsPerSec, range10OpsPerSec, pastRangeOpsPerSec };
}

async function main(): Promise<void> {
  const fillMs = await fill();
  if (fillMs > 0) console.log(`mvcc-open: filled ${KEY_COUNT} keys in ${(fillMs / 1000).toFixed(1)} s (${Math.round(KEY_COUNT / (fillMs / 1000))} puts/s in batches of ${FILL_BATCH_KEYS})`);
  const { store, openMs, firstReadUs } = measureOpen();
  const dbBytes = store.dbSizeBytes();
  console.log(`mvcc-open: opened ${KEY_COUNT} keys (${(dbBytes / 2 ** 20).toFixed(0)} MiB) in ${openMs.toFixed(2)} ms; first point read ${firstReadUs.toFixed(0)} µs`);
  const revisionBeforePuts = store.currentRevision;
  const puts = await putThroughput(store);
  console.log(`mvcc-open: put ${puts.putOpsPerSec} ops/s (batches of ${PUT_BATCH}, no fsync), ${puts.putSyncedOpsPerSec} ops/s with one fsync per batch`);
  const ranges = rangeThroughput(store, revisionBeforePuts);
  console.log(`mvcc-open: range ${ranges.rangeOpsPerSec} ops/s (one key), ${ranges.range10OpsPerSec} ops/s (prefix, limit 10, with count), ${ranges.pastRangeOpsPerSec} ops/s (one key at the revision before the put phase)`);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const compacted = store.currentRevision;
  const before = store.tableCounts().revisions;
  await store.applyBatch([{ compaction: { revision: compacted } }]);
  await store.compactionSettled();
  const compactMs = performance.now() - t0;
  const removed = before - store.tableCounts().revisions;
  cpuUsPerOp.compactedVersion = cpuSince(cpu0, removed);
  console.log(`mvcc-open: compaction removed ${removed} versions in ${compactMs.toFixed(0)} ms`);
  console.log(`mvcc-open: CPU µs per op: ${JSON.stringify(cpuUsPerOp)}`);
  await store.close();
  console.log('BENCH_RESULT ' + JSON.stringify({
    name: 'mvcc-open', keys: KEY_COUNT, valueBytes: VALUE_BYTES, dbBytes, fillMs: Math.round(fillMs),
    openMs: Number(openMs.toFixed(3)), firstReadUs: Math.round(firstReadUs), ...puts,
    compactedVersions: removed, compactMs: Math.round(compactMs), ...ranges, cpuUsPerOp,
  }));
}

await main();
