/**
 * The KV benchmark suite: put at 1, 16, 64 and 256 connections, single-key range at 1 and
 * 256, compare-and-swap txn at 16; each a warmup then a bounded measured run, generated from a
 * separate process. `runKvSuite(url)` runs it against any etcd-compatible gateway. Run alone:
 * `node dist/bench/kv.js --url http://127.0.0.1:2379 [--duration 5] [--only put]`.
 *
 * Owns the list of cases. Must never start or stop servers (run.ts does) and never run a case
 * without a time bound.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runLoadInChild } from './lib/child.js';
import type { LoadResult } from './lib/loadgen.js';
import { putKeySpace, type WorkloadName } from './lib/workloads.js';

export interface KvCase {
  readonly workload: Exclude<WorkloadName, 'fill'>;
  readonly connections: number;
}

export const kvCases: readonly KvCase[] = [
  { workload: 'put', connections: 1 },
  { workload: 'put', connections: 16 },
  { workload: 'put', connections: 64 },
  { workload: 'put', connections: 256 },
  { workload: 'range', connections: 1 },
  { workload: 'range', connections: 256 },
  { workload: 'txn-cas', connections: 16 },
];

export interface KvSuiteOptions {
  durationMs: number;
  warmupMs: number;
  /** Workload names to run (all when empty). */
  only: readonly string[];
  cwd: string;
  log: (line: string) => void;
}

const fillConnections = 64;

export function selectedCases(only: readonly string[]): KvCase[] {
  return kvCases.filter((c) => only.length === 0 || only.includes(c.workload));
}

export async function runKvSuite(url: string, o: KvSuiteOptions): Promise<LoadResult[]> {
  const cases = selectedCases(o.only);
  // Reads should find their keys: when no put case runs first, write each key once.
  if (cases.some((c) => c.workload === 'range') && !cases.some((c) => c.workload === 'put')) {
    o.log(`  filling ${putKeySpace} keys`);
    await runLoadInChild({ url, workload: 'fill', connections: fillConnections, warmupMs: 0, durationMs: 0, requests: putKeySpace }, o.cwd);
  }
  const results: LoadResult[] = [];
  for (const c of cases) {
    const r = await runLoadInChild({ url, workload: c.workload, connections: c.connections, warmupMs: o.warmupMs, durationMs: o.durationMs }, o.cwd);
    o.log(`  ${c.workload.padEnd(8)} ${String(c.connections).padStart(4)} conns: ${r.reqPerSec} req/s, p50 ${r.p50Ms} ms, ` +
      `p99 ${r.p99Ms} ms${r.errors + r.non200 > 0 ? `, ${r.errors} errors, ${r.non200} non-200 (${r.firstError})` : ''}` +
      `${r.casSuccessRatio !== undefined ? `, CAS success ${r.casSuccessRatio}` : ''}, generator CPU ${r.generatorCpuPct}%`);
    results.push(r);
  }
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { url: { type: 'string' }, duration: { type: 'string', default: '5' }, warmup: { type: 'string', default: '1' }, only: { type: 'string' } },
  });
  if (values.url === undefined) throw new Error('usage: kv.js --url http://127.0.0.1:PORT [--duration s] [--warmup s] [--only put,range,txn-cas]');
  const results = await runKvSuite(values.url, {
    durationMs: Number(values.duration) * 1000, warmupMs: Number(values.warmup) * 1000,
    only: values.only?.split(',') ?? [], cwd: process.cwd(), log: (l) => console.log(l),
  });
  console.log(JSON.stringify(results, null, 2));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
}
