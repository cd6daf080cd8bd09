/**
 * Multi-member clusters of real processes on 127.0.0.1 free ports: `startCluster(n)` launches
 * every member at once (each waits for /health, which needs a quorum) and returns their handles.
 * Owns only the processes and temp dirs it creates.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cairnEntry } from './paths.js';
import { etcdBinary } from './etcd.js';
import { launchMember, type MemberLayout, type ServerHandle, type ServerKind } from './member.js';
import { freePorts } from './ports.js';

export interface ClusterOptions {
  kind?: ServerKind;
  logLevel?: string;
  extraArgs?: string[];
  readyTimeoutMs?: number;
}

export interface ClusterLayout {
  layouts: MemberLayout[];
  initialCluster: string;
}

function commandOf(kind: ServerKind): { command: string; args: string[] } {
  if (kind === 'etcd') {
    const bin = etcdBinary();
    if (!bin) throw new Error('etcd is not installed');
    return { command: bin, args: [] };
  }
  const e = cairnEntry();
  if (!e.exists) throw new Error(`cairn not built: ${e.file}`);
  return { command: e.command, args: [...e.args] };
}

export async function clusterLayout(n: number, opts: ClusterOptions = {}): Promise<ClusterLayout> {
  const kind = opts.kind ?? 'cairn';
  const ports = await freePorts(2 * n);
  const names = Array.from({ length: n }, (_, i) => `m${i + 1}`);
  const initialCluster = names.map((nm, i) => `${nm}=http://127.0.0.1:${ports[2 * i + 1]}`).join(',');
  const token = `${kind}-cluster-${ports[0]}`;
  const cmd = commandOf(kind);
  const layouts: MemberLayout[] = [];
  for (let i = 0; i < n; i++) {
    layouts.push({
      kind, name: names[i], dataDir: await mkdtemp(join(tmpdir(), `cairn-test-${kind}-${names[i]}-`)),
      clientPort: ports[2 * i], peerPort: ports[2 * i + 1], initialCluster, initialClusterToken: token,
      logLevel: opts.logLevel ?? 'warn', extraArgs: opts.extraArgs ?? [], env: {},
      readyTimeoutMs: opts.readyTimeoutMs ?? 30_000, stopTimeoutMs: 10_000, command: cmd.command, commandArgs: cmd.args,
    });
  }
  return { layouts, initialCluster };
}

export async function startCluster(n: number, opts: ClusterOptions = {}): Promise<ServerHandle[]> {
  const { layouts } = await clusterLayout(n, opts);
  return Promise.all(layouts.map((l) => launchMember(l, true)));
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes; never sleeps blindly. */
export async function waitFor<T>(what: string, deadlineMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + deadlineMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}: ${String(last)}`);
}
