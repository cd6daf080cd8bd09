/**
 * One server process under test (a cairn or an etcd member): spawn it with etcd's flags, wait
 * until `GET /health` answers, capture its output, stop it (SIGTERM then SIGKILL after a
 * deadline), kill it (SIGKILL), restart it on the same data dir and ports, remove its data dir.
 *
 * Owns the child processes it spawns and the temp data dirs it creates. Must never use a fixed
 * port, never sleep a fixed time to wait for readiness, and never signal a process it did not
 * spawn. Children still alive when the test process exits are SIGKILLed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './ports.js';

export type ServerKind = 'cairn' | 'etcd';

/** How a process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Where one member listens and keeps its data; the same across restarts. */
export interface MemberLayout {
  readonly kind: ServerKind;
  readonly name: string;
  readonly dataDir: string;
  readonly clientPort: number;
  readonly peerPort: number;
  /**
   * The peer port other members are told to use, when it is not `peerPort` (a test's proxy in
   * front of the member, as the chaos harness uses for partitions). Default: `peerPort`.
   */
  readonly advertisedPeerPort?: number;
  /** etcd's `--initial-cluster`: `name=peerUrl,...` (one entry for a single node). */
  readonly initialCluster: string;
  readonly initialClusterToken: string;
  readonly logLevel: string;
  readonly extraArgs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly readyTimeoutMs: number;
  readonly stopTimeoutMs: number;
  /** The command to run; args are the etcd-style flags appended after `commandArgs`. */
  readonly command: string;
  readonly commandArgs: readonly string[];
}

export interface ServerHandle {
  readonly kind: ServerKind;
  readonly name: string;
  readonly pid: number;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** SIGTERM, wait for exit up to the stop deadline, then SIGKILL. Resolves with how it ended. */
  stop(): Promise<ExitInfo>;
  /** SIGKILL and wait for the exit. */
  kill9(): Promise<ExitInfo>;
  /** Start again on the same data dir and ports (stops this one first if it still runs). */
  restart(): Promise<ServerHandle>;
  /** Captured stdout and stderr (the tail, bounded by `maxLogBytes`). */
  logs(): string;
  /** How the process ended, or null while it runs. */
  exitInfo(): ExitInfo | null;
  /**
   * Stop the process if it runs; remove the data dir if the harness created it, unless
   * `keepData` (then print where it is, and the log tail).
   */
  dispose(opts?: { keepData?: boolean }): Promise<void>;
}

export interface StartOptions {
  name?: string;
  /** Use this data dir (kept at dispose); default: a fresh temp dir, removed at dispose. */
  dataDir?: string;
  logLevel?: string;
  extraArgs?: string[];
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
}

/** Keep the last this many bytes of a child's output. */
const maxLogBytes = 1 << 20;
const healthPollIntervalMs = 50;
const healthRequestTimeoutMs = 1_000;
const defaultReadyTimeoutMs = 30_000;
const defaultStopTimeoutMs = 10_000;
const logTailBytesOnFailure = 4_000;

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Signals that end a test run (a runner's timeout, Ctrl-C, a closed terminal). */
const fatalSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Children must not outlive the test process: on exit, and on a fatal signal (whose default
 * action would skip 'exit' handlers), SIGKILL them. A signal is then re-raised with its default
 * action so the process still ends the way its sender meant.
 */
function killLiveChildrenAtExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const child of liveChildren) child.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (const signal of fatalSignals) {
    const onSignal = (): void => {
      killAll();
      // Re-raise only if nobody else handles it; otherwise their handler decides.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/** Ports and a fresh temp data dir for a single-member cluster of `kind`. */
export async function singleMemberLayout(
  kind: ServerKind,
  command: { command: string; args: readonly string[] },
  opts: StartOptions,
): Promise<{ layout: MemberLayout; ownsDataDir: boolean }> {
  const [clientPort, peerPort] = await freePorts(2);
  const name = opts.name ?? `${kind}-${clientPort}`;
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? await mkdtemp(join(tmpdir(), `cairn-test-${kind}-`));
  const layout: MemberLayout = {
    kind, name, dataDir, clientPort, peerPort,
    initialCluster: `${name}=http://127.0.0.1:${peerPort}`,
    initialClusterToken: `${kind}-${clientPort}-${peerPort}`,
    logLevel: opts.logLevel ?? 'warn',
    extraArgs: opts.extraArgs ?? [],
    env: opts.env ?? {},
    readyTimeoutMs: opts.readyTimeoutMs ?? defaultReadyTimeoutMs,
    stopTimeoutMs: opts.stopTimeoutMs ?? defaultStopTimeoutMs,
    command: command.command,
    commandArgs: command.args,
  };
  return { layout, ownsDataDir };
}

/** etcd's flags for one member; cairn takes the same ones. */
export function memberFlags(m: MemberLayout, clusterState: 'new' | 'existing' = 'new'): string[] {
  const clientUrl = `http://127.0.0.1:${m.clientPort}`;
  const peerUrl = `http://127.0.0.1:${m.peerPort}`;
  const advertisedPeerUrl = `http://127.0.0.1:${m.advertisedPeerPort ?? m.peerPort}`;
  return [
    '--name', m.name,
    '--data-dir', m.dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', advertisedPeerUrl,
    '--initial-cluster', m.initialCluster,
    '--initial-cluster-token', m.initialClusterToken,
    '--initial-cluster-state', clusterState,
    '--log-level', m.logLevel,
  ];
}

/** The environment without ETCD_* and CAIRN_* settings of the caller, which would override flags. */
function childEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ETCD_') && !k.startsWith('CAIRN_')) env[k] = v;
  }
  return { ...env, ...extra };
}

class LogBuffer {
  private chunks: Buffer[] = [];
  private bytes = 0;

  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes > maxLogBytes && this.chunks.length > 1) {
      this.bytes -= this.chunks.shift()!.length;
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function waitForExit(child: ChildProcess): Promise<ExitInfo> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when `GET /health` answers 200 with `"health":"true"`. */
export async function isHealthy(clientUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(healthRequestTimeoutMs) });
    const text = await res.text();
    if (res.status !== 200) return false;
    const body = JSON.parse(text) as { health?: unknown };
    return body.health === 'true' || body.health === true;
  } catch {
    return false;
  }
}

export function tail(text: string, bytes = logTailBytesOnFailure): string {
  return text.length <= bytes ? text : `...${text.slice(text.length - bytes)}`;
}

async function waitUntilHealthy(
  child: ChildProcess, exit: Promise<ExitInfo>, m: MemberLayout, logs: () => string,
): Promise<void> {
  const clientUrl = `http://127.0.0.1:${m.clientPort}`;
  const deadline = Date.now() + m.readyTimeoutMs;
  let exited: ExitInfo | null = null;
  void exit.then((e) => { exited = e; });
  while (Date.now() < deadline) {
    if (exited !== null) {
      const e: ExitInfo = exited;
      throw new Error(`${m.kind} ${m.name} exited before it was ready (code ${e.code}, signal ${e.signal}); ` +
        `data dir ${m.dataDir}\n--- output ---\n${tail(logs())}`);
    }
    if (await isHealthy(clientUrl)) return;
    await delay(healthPollIntervalMs);
  }
  child.kill('SIGKILL');
  await exit;
  throw new Error(`${m.kind} ${m.name} not healthy at ${clientUrl}/health within ${m.readyTimeoutMs} ms; ` +
    `data dir ${m.dataDir}\n--- output ---\n${tail(logs())}`);
}

/** Spawn one member and wait until it is healthy. */
export async function launchMember(
  m: MemberLayout, ownsDataDir: boolean, clusterState: 'new' | 'existing' = 'new',
): Promise<ServerHandle> {
  // A restart passes the same flags as the first start, as a service manager would: etcd (and
  // so cairn) ignores the --initial-* flags once the data dir holds a member.
  killLiveChildrenAtExit();
  const child = spawn(m.command, [...m.commandArgs, ...memberFlags(m, clusterState), ...m.extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv(m.env),
  });
  const log = new LogBuffer();
  child.stdout!.on('data', (c: Buffer) => log.append(c));
  child.stderr!.on('data', (c: Buffer) => log.append(c));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => undefined);
  liveChildren.add(child);
  const exit = waitForExit(child).then((e) => { liveChildren.delete(child); return e; });
  await Promise.race([waitUntilHealthy(child, exit, m, () => log.text()), spawnError]);
  return makeHandle(m, child, exit, log, ownsDataDir);
}

function makeHandle(
  m: MemberLayout, child: ChildProcess, exit: Promise<ExitInfo>, log: LogBuffer, ownsDataDir: boolean,
): ServerHandle {
  let ended: ExitInfo | null = null;
  // After restart() the new handle owns the data dir; this one must not remove it.
  let ownsData = ownsDataDir;
  let disposed = false;
  void exit.then((e) => { ended = e; });
  const signalAndWait = async (signal: NodeJS.Signals): Promise<ExitInfo> => {
    if (ended === null) child.kill(signal);
    return exit;
  };
  const stop = async (): Promise<ExitInfo> => {
    if (ended !== null) return ended;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), m.stopTimeoutMs); });
    const timedOut = await Promise.race([exit.then(() => false), deadline]);
    clearTimeout(timer);
    return timedOut ? signalAndWait('SIGKILL') : exit;
  };
  return {
    kind: m.kind,
    name: m.name,
    pid: child.pid!,
    clientUrl: `http://127.0.0.1:${m.clientPort}`,
    peerUrl: `http://127.0.0.1:${m.advertisedPeerPort ?? m.peerPort}`,
    dataDir: m.dataDir,
    stop,
    kill9: () => signalAndWait('SIGKILL'),
    restart: async () => {
      await stop();
      const owned = ownsData;
      ownsData = false;
      return launchMember(m, owned);
    },
    logs: () => log.text(),
    exitInfo: () => ended,
    dispose: async (opts) => {
      await stop();
      if (disposed) return; // a scope may dispose a handle its test already disposed
      disposed = true;
      if (opts?.keepData === true) {
        console.error(`kept ${m.kind} ${m.name} data dir: ${m.dataDir}\n--- output tail ---\n${tail(log.text())}`);
      } else if (ownsData) {
        await rm(m.dataDir, { recursive: true, force: true });
      }
    },
  };
}
