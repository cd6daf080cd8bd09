/**
 * Benchmark of the Raft core alone: a 3-node in-memory cluster committing batched proposals.
 *
 * Owns: measuring entries committed per second by the core (no disk, no network, no codec
 * unless --codec), with JS heap bytes allocated per entry and GC counts. Must never: run unbounded — it
 * stops after `--duration` seconds (default 5) and compacts the in-memory logs as it goes.
 *
 *   node --import tsx bench/raft-core.ts [--duration 5] [--batch 1024] [--bytes 16] [--codec]
 *   node dist/bench/raft-core.js
 * The last line is `BENCH_RESULT {json}` for bench/run.ts.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GCProfiler } from 'node:v8';
import {
  MemoryStorage, RawNode, decodeMessage, encodeMessage, seededRandom, type Message, type NodeId,
} from '../src/raft/index.js';

interface BenchOptions {
  durationSec: number;
  batch: number;
  entryBytes: number;
  codec: boolean;
}

function parseArgs(argv: readonly string[]): BenchOptions {
  const opts: BenchOptions = { durationSec: 5, batch: 1024, entryBytes: 16, codec: false };
  for (let i = 0; i < argv.length; i++) {
    const next = (): number => Number(argv[++i]);
    switch (argv[i]) {
      case '--duration': opts.durationSec = next(); break;
      case '--batch': opts.batch = next(); break;
      case '--bytes': opts.entryBytes = next(); break;
      case '--codec': opts.codec = true; break;
    }
  }
  return opts;
}

interface Member {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  readonly node: RawNode;
  applied: number;
}

/** Entries kept behind the slowest member when compacting the in-memory logs. */
const COMPACT_MARGIN_ENTRIES = 10_000;
const COMPACT_EVERY_ROUNDS = 64;

function buildCluster(): Member[] {
  const ids: NodeId[] = [1n, 2n, 3n];
  const random = seededRandom(42);
  return ids.map((id) => {
    const storage = new MemoryStorage();
    storage.setConfState({ voters: ids, learners: [] });
    const node = new RawNode({ id, storage, random, maxSizePerMsgBytes: 4 << 20, maxInflightMsgs: 256 });
    return { id, storage, node, applied: 0 };
  });
}

class Cluster {
  readonly members: Member[];
  private readonly byId = new Map<NodeId, Member>();
  private inbox: Message[] = [];
  private readonly codec: boolean;

  constructor(codec: boolean) {
    this.members = buildCluster();
    for (const m of this.members) this.byId.set(m.id, m);
    this.codec = codec;
  }

  /** One host-loop turn for every member, then deliver what they sent. */
  round(): void {
    for (const m of this.members) {
      if (!m.node.hasReady()) continue;
      const rd = m.node.ready();
      if (rd.snapshot !== null) m.storage.applySnapshot(rd.snapshot);
      if (rd.hardState !== null) m.storage.setHardState(rd.hardState);
      if (rd.entries.length > 0) m.storage.append(rd.entries);
      for (const msg of rd.messages) this.inbox.push(this.codec ? decodeMessage(encodeMessage(msg)) : msg);
      if (rd.committedEntries.length > 0) m.applied = rd.committedEntries[rd.committedEntries.length - 1].index;
      m.node.advance();
    }
    const batch = this.inbox;
    this.inbox = [];
    for (const msg of batch) this.byId.get(msg.to)!.node.step(msg);
  }

  compact(): void {
    let minApplied = Infinity;
    for (const m of this.members) minApplied = Math.min(minApplied, m.applied);
    const at = minApplied - COMPACT_MARGIN_ENTRIES;
    for (const m of this.members) if (at > m.storage.firstIndex()) m.storage.compact(at);
  }
}

interface RunResult {
  committed: number;
  seconds: number;
  rounds: number;
}

interface GcFigures {
  gcCount: number;
  gcMs: number;
  allocBytes: number;
}

/** Runs `fn` under V8's GC profiler: bytes allocated = heap growth between collections plus
 * the growth after the last one (exact for the JS heap; external buffers not included). */
function measureGc<T>(fn: () => T): { value: T; gc: GcFigures } {
  const startUsed = process.memoryUsage().heapUsed;
  const profiler = new GCProfiler();
  profiler.start();
  const value = fn();
  const endUsed = process.memoryUsage().heapUsed;
  const stats = profiler.stop().statistics;
  let allocBytes = 0;
  let prev = startUsed;
  let gcMicros = 0;
  for (const s of stats) {
    allocBytes += Math.max(0, s.beforeGC.heapStatistics.usedHeapSize - prev);
    prev = s.afterGC.heapStatistics.usedHeapSize;
    gcMicros += s.cost;
  }
  allocBytes += Math.max(0, endUsed - prev);
  return { value, gc: { gcCount: stats.length, gcMs: gcMicros / 1000, allocBytes } };
}

function run(cluster: Cluster, opts: BenchOptions, seconds: number): RunResult {
  const leader = cluster.members[0];
  const payloads: Uint8Array[] = [];
  for (let i = 0; i < opts.batch; i++) payloads.push(new Uint8Array(opts.entryBytes).fill(i & 0xff));
  const startApplied = leader.applied;
  let rounds = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    for (let k = 0; k < 16; k++) {
      leader.node.proposeBatch(payloads);
      cluster.round();
      rounds++;
      if (rounds % COMPACT_EVERY_ROUNDS === 0) cluster.compact();
    }
  }
  for (let i = 0; i < 8; i++) cluster.round();
  const secondsTaken = (performance.now() - started) / 1000;
  return { committed: leader.applied - startApplied, seconds: secondsTaken, rounds };
}

export function main(argv: readonly string[]): void {
  const opts = parseArgs(argv);
  const cluster = new Cluster(opts.codec);
  cluster.members[0].node.campaign();
  for (let i = 0; i < 10; i++) cluster.round();
  if (cluster.members[0].node.status().state !== 'leader') throw new Error('bench: node 1 did not become leader');
  run(cluster, opts, Math.min(0.5, opts.durationSec / 5)); // warm-up
  const { value: r, gc } = measureGc(() => run(cluster, opts, opts.durationSec));
  const { gcCount, gcMs } = gc;
  const entriesPerSec = Math.round(r.committed / r.seconds);
  const result = {
    name: 'raft-core', entriesPerSec, committed: r.committed, seconds: Number(r.seconds.toFixed(2)),
    batch: opts.batch, entryBytes: opts.entryBytes, nodes: 3, codec: opts.codec,
    allocBytesPerEntry: Math.round(gc.allocBytes / Math.max(1, r.committed)),
    gcCount, gcMs: Math.round(gcMs), heapUsedMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
  };
  console.log(`raft-core: ${entriesPerSec.toLocaleString('en-US')} entries/s committed (3 nodes in memory, ` +
    `batches of ${opts.batch} x ${opts.entryBytes} B${opts.codec ? ', through the codec' : ''}); ` +
    `${result.allocBytesPerEntry} B allocated per committed entry, ${gcCount} GCs (${result.gcMs} ms)`);
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) main(process.argv.slice(2));
