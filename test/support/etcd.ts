/**
 * Real etcd members for differential tests and benchmarks: `startEtcd()` runs the installed
 * etcd 3.4 (Debian's etcd-server) on free ports in a fresh temp data dir.
 *
 * Owns only the etcd processes it starts. Must never touch the system etcd service or port 2379.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { launchMember, singleMemberLayout, type ServerHandle, type StartOptions } from './member.js';

/** Override with CAIRN_TEST_ETCD (a path) when etcd is not on PATH. */
export function etcdBinary(): string | null {
  const override = process.env.CAIRN_TEST_ETCD;
  const candidates = override !== undefined && override !== ''
    ? [override]
    : [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, 'etcd')), '/usr/bin/etcd'];
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // try the next one
    }
  }
  return null;
}

export function etcdAvailable(): boolean {
  return etcdBinary() !== null;
}

/** "3.4.23", or null when etcd is missing. */
export function etcdVersion(): string | null {
  const bin = etcdBinary();
  if (bin === null) return null;
  try {
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 5_000 });
    return /etcd Version:\s*(\S+)/.exec(out)?.[1] ?? out.split('\n')[0];
  } catch {
    return null;
  }
}

/** Start one etcd member (a one-node cluster) and wait until /health says true. */
export async function startEtcd(opts: StartOptions = {}): Promise<ServerHandle> {
  const bin = etcdBinary();
  if (bin === null) throw new Error('etcd is not installed (apt-get install etcd-server, or set CAIRN_TEST_ETCD)');
  const { layout, ownsDataDir } = await singleMemberLayout('etcd', { command: bin, args: [] }, {
    ...opts,
    // zap is the logger that honours --log-level in 3.4; capnslog ignores it and warns.
    extraArgs: ['--logger', 'zap', '--log-outputs', 'stderr', ...(opts.extraArgs ?? [])],
  });
  return launchMember(layout, ownsDataDir);
}
