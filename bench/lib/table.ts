/**
 * The benchmark's result table: one row per workload and connection count, Cairn's and etcd's
 * req/s, p50 and p99 side by side, and the Cairn/etcd ratio of req/s.
 *
 * Owns formatting only. Must never change or drop a measured number.
 */
import type { LoadResult } from './loadgen.js';

export type TargetResults = Record<string, LoadResult[]>;

const rateWidth = 12;
const msWidth = 8;

function cell(r: LoadResult | undefined): string {
  if (r === undefined) return `${'-'.padStart(rateWidth)} ${'-'.padStart(msWidth)} ${'-'.padStart(msWidth)}`;
  const flag = r.errors + r.non200 > 0 ? '!' : ' ';
  return `${String(r.reqPerSec).padStart(rateWidth - 1)}${flag} ${r.p50Ms.toFixed(2).padStart(msWidth)} ${r.p99Ms.toFixed(2).padStart(msWidth)}`;
}

export function formatTable(results: TargetResults, targets: readonly string[]): string {
  const rows = new Map<string, Map<string, LoadResult>>();
  for (const t of targets) {
    for (const r of results[t] ?? []) {
      const id = `${r.workload}\u0000${r.connections}`;
      if (!rows.has(id)) rows.set(id, new Map());
      rows.get(id)!.set(t, r);
    }
  }
  const head = targets.map((t) => `${`${t} req/s`.padStart(rateWidth)} ${'p50 ms'.padStart(msWidth)} ${'p99 ms'.padStart(msWidth)}`).join(' | ');
  const lines = [`${'workload'.padEnd(9)} ${'conns'.padStart(5)} | ${head} | cairn/etcd`];
  lines.push('-'.repeat(lines[0].length));
  for (const [id, byTarget] of rows) {
    const [workload, conns] = id.split('\u0000');
    const cairn = byTarget.get('cairn');
    const etcd = byTarget.get('etcd');
    const ratio = cairn !== undefined && etcd !== undefined && etcd.reqPerSec > 0 ? (cairn.reqPerSec / etcd.reqPerSec).toFixed(2) : '-';
    lines.push(`${workload.padEnd(9)} ${conns.padStart(5)} | ${targets.map((t) => cell(byTarget.get(t))).join(' | ')} | ${ratio.padStart(10)}`);
  }
  lines.push("('!' marks a run with errors or non-200 answers; see the JSON for the first one)");
  return lines.join('\n');
}
