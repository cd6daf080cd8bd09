/**
 * Running cairnctl (and, where installed, Debian's etcdctl 3.4) as real processes against a
 * real server, for the CLI's tests. The server is chosen by `CLI_TEST_SERVER=etcd|cairn`;
 * by default cairn when its entry point exists and answers, else etcd.
 *
 * Owns the processes it spawns. Must never use a fixed port or kill a process it did not start.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { etcdAvailable, nodeEntry, startCairn, startEtcd, cairnBuilt, type ServerHandle } from '../support/harness.js';

export interface CliRun { stdout: string; stderr: string; code: number | null }
export interface RunOptions { input?: string; env?: Record<string, string>; timeoutMs?: number }

/** A command that does not finish within this is killed (watch and lock tests end their own). */
const defaultRunTimeoutMs = 20_000;
const etcdctlPath = '/usr/bin/etcdctl';

export function etcdctlAvailable(): boolean {
  return existsSync(etcdctlPath);
}

/** The environment without any ETCDCTL_/CAIRNCTL_ settings of the caller (they would change flags). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ETCDCTL_') && !k.startsWith('CAIRNCTL_')) env[k] = v;
  }
  return { ...env, ETCDCTL_API: '3', ...extra };
}

export function runProcess(command: string, args: string[], opts: RunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: cleanEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? defaultRunTimeoutMs);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ stdout, stderr, code }); });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export function cairnctlCommand(): { command: string; args: readonly string[] } {
  const e = nodeEntry('src/bin/cairnctl');
  return { command: e.command, args: e.args };
}

/** Runs `cairnctl --endpoints=<server> <args>`. */
export function cairnctl(endpoint: string | null, args: string[], opts: RunOptions = {}): Promise<CliRun> {
  const c = cairnctlCommand();
  const eps = endpoint === null ? [] : [`--endpoints=${endpoint}`];
  return runProcess(c.command, [...c.args, ...eps, ...args], opts);
}

/** etcdctl logs gRPC retries as JSON lines on stderr; they are noise for a comparison. */
export function withoutEtcdctlLogs(stderr: string): string {
  return stderr.split('\n').filter((l) => !l.startsWith('{"level":')).join('\n');
}

/** Runs Debian's etcdctl with the same arguments (its stderr without its JSON log lines). */
export async function etcdctl(endpoint: string | null, args: string[], opts: RunOptions = {}): Promise<CliRun> {
  const eps = endpoint === null ? [] : [`--endpoints=${endpoint}`];
  const r = await runProcess(etcdctlPath, [...eps, ...args], opts);
  return { ...r, stderr: withoutEtcdctlLogs(r.stderr) };
}

export type TargetKind = 'cairn' | 'etcd';

/** Starts the server the CLI tests run against (see the module comment). */
export async function startTarget(): Promise<ServerHandle> {
  const wanted = process.env.CLI_TEST_SERVER;
  if (wanted === 'etcd') return startEtcd();
  if (wanted === 'cairn') return startCairn({ readyTimeoutMs: 15_000 });
  if (cairnBuilt()) {
    try {
      return await startCairn({ readyTimeoutMs: 10_000 });
    } catch (e) {
      if (!etcdAvailable()) throw e;
      console.error(`# cairn did not start (${(e as Error).message.split('\n')[0]}); CLI tests run against etcd`);
    }
  }
  return startEtcd();
}

/** Whether etcdctl can be compared with cairnctl on this server (it speaks gRPC: etcd only). */
export function canCompareWithEtcdctl(server: ServerHandle): boolean {
  return server.kind === 'etcd' && etcdctlAvailable();
}

/** The program name and timings differ legitimately between the two tools. */
export function normaliseTool(text: string): string {
  return text.replace(/\betcdctl\b/g, 'cairnctl');
}

/** A long-running command (watch, lock, elect, keep-alive) under test. */
export interface Running {
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout satisfies `ready`, or rejects after `timeoutMs`. */
  waitFor(ready: (stdout: string) => boolean, timeoutMs?: number): Promise<void>;
  /** Sends `signal` (default SIGINT) and resolves with the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const waitPollMs = 25;
const defaultWaitMs = 10_000;

export function startProcess(command: string, args: string[], opts: RunOptions = {}): Running {
  const child = spawn(command, args, { env: cleanEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString('utf8'); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString('utf8'); });
  child.stdin.on('error', () => undefined);
  if (opts.input !== undefined) child.stdin.write(opts.input);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const killTimer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  void exited.then(() => clearTimeout(killTimer));
  return {
    stdout: () => out,
    stderr: () => withoutEtcdctlLogs(err),
    async waitFor(ready, timeoutMs = defaultWaitMs) {
      const deadline = Date.now() + timeoutMs;
      while (!ready(out)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting; stdout so far: ${JSON.stringify(out)} stderr: ${JSON.stringify(err)}`);
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} early; stdout: ${JSON.stringify(out)} stderr: ${JSON.stringify(err)}`);
        await new Promise((r) => setTimeout(r, waitPollMs));
      }
    },
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    exited,
  };
}

export function startCairnctl(endpoint: string, args: string[], opts: RunOptions = {}): Running {
  const c = cairnctlCommand();
  return startProcess(c.command, [...c.args, `--endpoints=${endpoint}`, ...args], opts);
}

export function startEtcdctl(endpoint: string, args: string[], opts: RunOptions = {}): Running {
  return startProcess(etcdctlPath, [`--endpoints=${endpoint}`, ...args], opts);
}

/**
 * Whether the server serves `POST path` (Cairn gains etcd's routes group by group). Tests of a
 * command whose route is missing skip themselves with this reason instead of failing.
 */
export async function routeMissing(server: ServerHandle, path: string): Promise<string | null> {
  const res = await fetch(server.clientUrl + path, { method: 'POST', body: '{}', signal: AbortSignal.timeout(5_000) }).catch(() => null);
  if (res === null) return `${server.kind} did not answer POST ${path}`;
  await res.body?.cancel();
  return res.status === 404 || res.status === 405 || res.status === 501
    ? `${server.kind} does not serve POST ${path} yet (HTTP ${res.status})`
    : null;
}
