/**
 * Benchmark of the write-ahead log alone: small records (100 B) appended in batches of 1, 16
 * and 256 with one sync() per batch, then many concurrent writers of one record each (group
 * commit: they share fsyncs). Prints entries/s, fsyncs/s and sync latency per phase.
 *
 * Owns: a temporary folder it creates and removes. Must never: run unbounded — the phases
 * share `--duration` seconds (default 5) — or write outside the OS temp folder (or `--dir`).
 *
 *   node --import tsx bench/wal.ts [--duration 5] [--bytes 100] [--preallocate 4194304] [--dir /path/on/the/disk]
 *   node dist/bench/wal.js
 * The last line is `BENCH_RESULT {json}` for bench/run.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { crc32IsNative } from '../src/wal/crc32.js';
import { DEFAULT_PREALLOCATE_BYTES, Wal, type WalRecord } from '../src/wal/index.js';

const BATCH_SIZES = [1, 16, 256] as const;
const CONCURRENT_WRITERS = 64;
/** Latency samples kept per phase; beyond this the phase stops sampling. */
const MAX_LATENCY_SAMPLES = 100_000;
const SEGMENT_SIZE_BYTES = 64 * 1024 * 1024;

interface PhaseResult {
  phase: string;
  entriesPerSec: number;
  fsyncsPerSec: number;
  entriesPerFsync: number;
  syncP50Ms: number;
  syncP99Ms: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

class Phase {
  private readonly latenciesMs: number[] = [];
  private entries = 0;
  private readonly fsyncsAtStart: number;
  private readonly startedMs = performance.now();

  constructor(private readonly wal: Wal, readonly name: string, readonly deadlineMs: number) {
    this.fsyncsAtStart = wal.stats.fsyncs;
  }

  async syncTimed(count: number): Promise<void> {
    const t0 = performance.now();
    await this.wal.sync();
    if (this.latenciesMs.length < MAX_LATENCY_SAMPLES) this.latenciesMs.push(performance.now() - t0);
    this.entries += count;
  }

  result(): PhaseResult {
    const seconds = (performance.now() - this.startedMs) / 1000;
    const fsyncs = this.wal.stats.fsyncs - this.fsyncsAtStart;
    const sorted = [...this.latenciesMs].sort((a, b) => a - b);
    const round2 = (n: number): number => Number(n.toFixed(2));
    return {
      phase: this.name,
      entriesPerSec: Math.round(this.entries / seconds),
      fsyncsPerSec: Math.round(fsyncs / seconds),
      entriesPerFsync: round2(this.entries / Math.max(1, fsyncs)),
      syncP50Ms: round2(quantile(sorted, 0.5)),
      syncP99Ms: round2(quantile(sorted, 0.99)),
    };
  }
}

function makeBatch(next: number, count: number, payload: Uint8Array): WalRecord[] {
  const out: WalRecord[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = { kind: 1, index: next + i, data: payload };
  return out;
}

async function batchedPhase(wal: Wal, batch: number, payload: Uint8Array, seconds: number, next: { index: number }): Promise<PhaseResult> {
  const phase = new Phase(wal, `batch ${batch}`, performance.now() + seconds * 1000);
  while (performance.now() < phase.deadlineMs) {
    wal.append(makeBatch(next.index, batch, payload));
    next.index += batch;
    await phase.syncTimed(batch);
  }
  return phase.result();
}

async function concurrentPhase(wal: Wal, payload: Uint8Array, seconds: number, next: { index: number }): Promise<PhaseResult> {
  const phase = new Phase(wal, `${CONCURRENT_WRITERS} writers x 1`, performance.now() + seconds * 1000);
  const writer = async (): Promise<void> => {
    while (performance.now() < phase.deadlineMs) {
      wal.append(makeBatch(next.index++, 1, payload));
      await phase.syncTimed(1);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_WRITERS }, writer));
  return phase.result();
}

export async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string', default: '5' },
      bytes: { type: 'string', default: '100' },
      preallocate: { type: 'string', default: String(DEFAULT_PREALLOCATE_BYTES) },
      dir: { type: 'string' },
    },
  });
  const durationSec = Number(values.duration);
  const entryBytes = Number(values.bytes);
  const base = await mkdtemp(join(values.dir ?? tmpdir(), 'cairn-bench-wal-'));
  const phaseSec = durationSec / (BATCH_SIZES.length + 1);
  const payload = new Uint8Array(entryBytes).fill(0x61);
  const preallocateBytes = Number(values.preallocate);
  const { wal } = await Wal.open(base, { segmentSizeBytes: SEGMENT_SIZE_BYTES, preallocateBytes });
  const phases: PhaseResult[] = [];
  try {
    const next = { index: 1 };
    for (const batch of BATCH_SIZES) phases.push(await batchedPhase(wal, batch, payload, phaseSec, next));
    phases.push(await concurrentPhase(wal, payload, phaseSec, next));
    await wal.close();
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  for (const p of phases) {
    console.log(`wal ${p.phase.padEnd(14)} ${p.entriesPerSec.toLocaleString('en-US').padStart(10)} entries/s  ` +
      `${p.fsyncsPerSec.toLocaleString('en-US').padStart(6)} fsyncs/s  ${String(p.entriesPerFsync).padStart(7)} entries/fsync  ` +
      `sync p50 ${p.syncP50Ms} ms p99 ${p.syncP99Ms} ms`);
  }
  const result = { name: 'wal', entryBytes, seconds: durationSec, preallocateBytes, crc32Native: crc32IsNative, tmpdir: values.dir ?? tmpdir(), phases };
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
