/**
 * `check perf`: a bounded, rate-limited write load (etcdctl's workloads: s = 150 writes/s from
 * 50 clients, m, l, xl) for `--duration` (etcdctl's fixed 60 s by default), then the PASS/FAIL
 * lines etcdctl prints for throughput, slowest request and standard deviation.
 *
 * Must never: leave its keys behind (the prefix is deleted at the end), or have more requests
 * in flight than the workload's client count.
 */
import { randomBytes } from 'node:crypto';
import { flagBool, flagString, usage, type Args, type Register } from '../command.js';
import type { CommandContext } from '../context.js';
import { CliExit, ExitCode, invalidInput } from '../exit.js';
import * as codec from '../gateway/codec.js';
import { parseGoDurationMs } from '../go-parse.js';
import { prefixRangeEnd } from '../printers/simple.js';
import { group } from './group.js';

interface Workload { writesPerSecond: number; clients: number }
const workloads: Record<string, Workload> = {
  s: { writesPerSecond: 150, clients: 50 }, m: { writesPerSecond: 1000, clients: 200 },
  l: { writesPerSecond: 8000, clients: 500 }, xl: { writesPerSecond: 15000, clients: 1000 },
};
const aliases: Record<string, string> = { s: 's', small: 's', m: 'm', medium: 'm', l: 'l', large: 'l', xl: 'xl', xLarge: 'xl' };
const keyBytes = 256;
const valueBytes = 1024;
/** etcdctl's thresholds. */
const slowestLimitS = 0.5;
const stddevLimitS = 0.1;
const minThroughputRatio = 0.9;

export interface PerfStats { count: number; errors: Map<string, number>; rps: number; slowestS: number; stddevS: number }

/** Statistics as etcd's report package computes them (latencies in seconds). */
export function perfStats(latenciesS: number[], errors: Map<string, number>, totalS: number): PerfStats {
  const n = latenciesS.length;
  const mean = n ? latenciesS.reduce((a, b) => a + b, 0) / n : 0;
  const variance = n ? latenciesS.reduce((a, b) => a + (b - mean) ** 2, 0) / n : 0;
  return { count: n, errors, rps: totalS > 0 ? n / totalS : 0, slowestS: n ? Math.max(...latenciesS) : 0, stddevS: Math.sqrt(variance) };
}

async function runLoad(ctx: CommandContext, w: Workload, prefix: string, durationMs: number): Promise<PerfStats> {
  const client = await ctx.client();
  const value = codec.b64(Buffer.alloc(valueBytes));
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  const startMs = performance.now();
  const inflight = new Set<Promise<void>>();
  for (let i = 0; ; i++) {
    const dueMs = startMs + (i * 1000) / w.writesPerSecond;
    if (dueMs - startMs >= durationMs) break;
    const waitMs = dueMs - performance.now();
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    if (inflight.size >= w.clients) await Promise.race(inflight);
    const key = codec.b64(Buffer.concat([Buffer.from(prefix), randomBytes(keyBytes)]));
    const began = performance.now();
    const p: Promise<void> = client.call('/v3/kv/put', { key, value })
      .then(() => { latencies.push((performance.now() - began) / 1000); })
      .catch((e: Error) => { errors.set(e.message, (errors.get(e.message) ?? 0) + 1); })
      .finally(() => { inflight.delete(p); });
    inflight.add(p);
  }
  await Promise.all(inflight);
  return perfStats(latencies, errors, (performance.now() - startMs) / 1000);
}

async function checkPerf(ctx: CommandContext, argv: Args): Promise<void> {
  const load = flagString(argv, 'load', 's');
  const model = aliases[load];
  if (model === undefined) throw new CliExit(ExitCode.BadFeature, `unknown load option ${load}`);
  const w = workloads[model];
  const prefix = flagString(argv, 'prefix', '/etcdctl-check-perf/');
  const durationMs = parseGoDurationMs(flagString(argv, 'duration', '60s'));
  const range = { key: codec.b64(Buffer.from(prefix)), range_end: codec.b64(prefixRangeEnd(Buffer.from(prefix))) };
  const existing = codec.rangeResponse(await ctx.call('/v3/kv/range', { ...range, limit: '1' }));
  if (existing.kvs.length > 0) throw invalidInput(`prefix ${JSON.stringify(prefix)} has keys. Delete with cairnctl del --prefix ${prefix} first`);
  const s = await runLoad(ctx, w, prefix, durationMs);
  const del = codec.deleteRangeResponse(await ctx.call('/v3/kv/deleterange', range));
  if (flagBool(argv, 'auto-compact')) await ctx.call('/v3/kv/compaction', { revision: del.header.revision.toString(), physical: true });
  if (flagBool(argv, 'auto-defrag')) {
    const client = await ctx.client();
    for (const ep of ctx.globals.endpoints) await client.callOn(ep, '/v3/maintenance/defragment', {});
  }
  report(ctx, s, w);
}

function report(ctx: CommandContext, s: PerfStats, w: Workload): void {
  const out = (line: string): void => ctx.io.out(line + '\n');
  let ok = true;
  if (s.errors.size !== 0) {
    out('FAIL: too many errors');
    for (const [k, v] of s.errors) out(`FAIL: ERROR(${k}) -> ${v}`);
    ok = false;
  }
  const rps = Math.trunc(s.rps) + 1;
  if (s.rps / w.writesPerSecond <= minThroughputRatio) { out(`FAIL: Throughput too low: ${rps} writes/s`); ok = false; } else out(`PASS: Throughput is ${rps} writes/s`);
  if (s.slowestS > slowestLimitS) { out(`Slowest request took too long: ${s.slowestS.toFixed(6)}s`); ok = false; } else out(`PASS: Slowest request took ${s.slowestS.toFixed(6)}s`);
  if (s.stddevS > stddevLimitS) { out(`Stddev too high: ${s.stddevS.toFixed(6)}s`); ok = false; } else out(`PASS: Stddev is ${s.stddevS.toFixed(6)}s`);
  out(ok ? 'PASS' : 'FAIL');
  if (!ok) throw new CliExit(ExitCode.Error, '');
}

export const registerCheck: Register = (y, select) => group(y, select, 'check', 'commands for checking properties of the etcd cluster', (g) => g
  .command('perf', 'Check the performance of the etcd cluster', usage('check perf [options]', (s) => s
    .option('load', { type: 'string', default: 's', describe: 'The performance check\'s workload model. Accepted workloads: s(small), m(medium), l(large), xl(xLarge)' })
    .option('prefix', { type: 'string', default: '/etcdctl-check-perf/', describe: 'The prefix for writing the performance check\'s keys.' })
    .option('duration', { type: 'string', default: '60s', describe: 'How long the load runs (cairnctl only; etcdctl always runs 60s)' })
    .option('auto-compact', { type: 'boolean', default: false, describe: 'Compact storage with last revision after test is finished.' })
    .option('auto-defrag', { type: 'boolean', default: false, describe: 'Defragment storage after test is finished.' })),
  (a) => select(a as Args, (ctx) => checkPerf(ctx, a as Args))));
