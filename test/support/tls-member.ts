/**
 * Cairn processes for TLS tests: spawn `cairn` with the given flags, wait until `/health`
 * answers over https (with a given undici dispatcher carrying the client certificate), or
 * until the process exits (for members that must fail to start), stop it by pid.
 *
 * Owns the child processes it spawns; never sleeps a fixed time, never signals another pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request, type Dispatcher } from 'undici';
import { cairnEntry } from './paths.js';

export interface TlsProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  logs(): string;
  stop(): Promise<void>;
}

const liveChildren = new Set<ChildProcess>();
let hooked = false;

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ETCD_') && !k.startsWith('CAIRN_')) env[k] = v;
  return env;
}

export function spawnCairn(args: readonly string[]): TlsProcess {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => { for (const c of liveChildren) c.kill('SIGKILL'); });
  }
  const entry = cairnEntry();
  const child = spawn(entry.command, [...entry.args, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  liveChildren.add(child);
  let out = '';
  const keep = (c: Buffer): void => { out = (out + c.toString('utf8')).slice(-200_000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { liveChildren.delete(child); resolve(code); }));
  return {
    child, exited, logs: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves when `url/health` says true; rejects if the process exits or the deadline passes. */
export async function waitHealthy(p: TlsProcess, url: string, dispatcher: Dispatcher, deadlineMs = 30_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  let exitCode: number | null | undefined;
  void p.exited.then((c) => { exitCode = c; });
  let last = '';
  while (Date.now() < until) {
    if (exitCode !== undefined) throw new Error(`cairn exited (code ${exitCode}) before healthy:\n${p.logs().slice(-3000)}`);
    try {
      const res = await request(`${url}/health`, { dispatcher, signal: AbortSignal.timeout(1_000) });
      const text = await res.body.text();
      if (res.statusCode === 200 && text.includes('"true"')) return;
      last = text;
    } catch (e) {
      last = String((e as Error).message);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not healthy within ${deadlineMs} ms (${last}):\n${p.logs().slice(-3000)}`);
}
