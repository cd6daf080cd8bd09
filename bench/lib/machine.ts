/**
 * What a benchmark ran on, for the header of its output: CPU model and count, memory, OS,
 * node and etcd versions, the git commit, the date.
 *
 * Owns nothing. Must never fail the run: unknown facts are reported as null.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface MachineInfo {
  date: string;
  cpuModel: string;
  cpuCount: number;
  totalMemGiB: number;
  os: string;
  /** 1-minute load average at the start: above the CPU count, other work skews the numbers. */
  loadAvg1m: number;
  node: string;
  etcd: string | null;
  gitCommit: string | null;
}

function gitCommit(cwd: string): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', timeout: 5_000 }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(cwd: string, etcd: string | null): MachineInfo {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAvg1m: Math.round(os.loadavg()[0] * 100) / 100,
    node: process.version,
    etcd,
    gitCommit: gitCommit(cwd),
  };
}

export function describeMachine(m: MachineInfo): string {
  return [
    `date ${m.date}  commit ${m.gitCommit ?? '?'}`,
    `cpu ${m.cpuCount} x ${m.cpuModel}  mem ${m.totalMemGiB} GiB  ${m.os}  load ${m.loadAvg1m}`,
    `node ${m.node}  etcd ${m.etcd ?? 'not installed'}`,
  ].join('\n');
}
