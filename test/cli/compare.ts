/**
 * Differential checks for the CLI tests: run one command line through cairnctl and, when the
 * server is etcd and etcdctl is installed, through etcdctl too, and require the same stdout,
 * stderr and exit code (after explicit normalisation of what legitimately differs).
 *
 * Must never hide a difference that a script could see, except through a named normaliser.
 */
import assert from 'node:assert/strict';
import type { ServerHandle } from '../support/harness.js';
import { memoryIo } from '../../src/cli/io.js';
import { runCairnctl } from '../../src/cli/main.js';
import { cairnctl, canCompareWithEtcdctl, etcdctl, normaliseTool, type CliRun, type RunOptions } from './cli-harness.js';

export type Normaliser = (text: string) => string;

/** Revisions and raft terms move between two runs of a mutating command. */
export const revisions: Normaliser = (t) => t
  .replace(/("(?:revision|create_revision|mod_revision|version|raft_term|Revision|CreateRevision|ModRevision|Version|RaftTerm|PrevCreateRevision|PrevModRevision|PrevVersion)"\s*:\s*)\d+/g, '$1N');

/** Lease IDs (hex in simple output, decimal in json and fields). */
export const leaseIds: Normaliser = (t) => t
  .replace(/\b[0-9a-f]{12,16}\b/g, 'LEASEHEX')
  .replace(/("(?:ID|id|lease|Lease|PrevLease)"\s*:\s*)\d+/g, '$1N');

/** Timings (`took = 1.2ms`, `"took":"1.2ms"`). */
export const timings: Normaliser = (t) => t.replace(/\b\d+(\.\d+)?(ns|µs|ms|s)\b/g, 'DURATION');

/**
 * Runs cairnctl inside this test process (same code as the executable, minus process start-up,
 * which costs about half a second under tsx): for the many variants of a command; each command
 * also runs as a real process at least once (`process: true`).
 */
export async function cairnctlInProcess(endpoint: string | null, args: string[], opts: RunOptions = {}): Promise<CliRun> {
  const io = memoryIo(opts.input ?? '', opts.env ?? {});
  const eps = endpoint === null ? [] : [`--endpoints=${endpoint}`];
  const code = await runCairnctl([...eps, ...args], io);
  return { stdout: io.stdoutText(), stderr: io.stderrText(), code };
}

export interface SameOptions extends RunOptions {
  /** Spawn the real executable instead of running in-process. */
  process?: boolean;
  /** Run before each tool's run, so both see the same state. */
  setup?: () => Promise<unknown>;
  normalise?: Normaliser[];
}

function apply(run: CliRun, ns: Normaliser[]): CliRun {
  const f = (s: string): string => ns.reduce((acc, n) => n(acc), normaliseTool(s));
  return { stdout: f(run.stdout), stderr: f(run.stderr), code: run.code };
}

/**
 * Runs `args` through cairnctl (and etcdctl when possible) and asserts they agree. Returns
 * cairnctl's run (unnormalised) for further assertions against expected text.
 */
export async function same(server: ServerHandle, args: string[], opts: SameOptions = {}): Promise<CliRun> {
  await opts.setup?.();
  const mine = opts.process
    ? await cairnctl(server.clientUrl, args, opts)
    : await cairnctlInProcess(server.clientUrl, args, opts);
  if (canCompareWithEtcdctl(server)) {
    await opts.setup?.();
    const theirs = await etcdctl(server.clientUrl, args, opts);
    const ns = opts.normalise ?? [];
    assert.deepEqual(apply(mine, ns), apply(theirs, ns), `cairnctl and etcdctl differ for: ${args.join(' ')}`);
  }
  return mine;
}

/** Asserts a run succeeded with exactly this stdout. */
export function ok(run: CliRun, stdout: string): void {
  assert.equal(run.stderr, '', 'stderr');
  assert.equal(run.stdout, stdout);
  assert.equal(run.code, 0, 'exit code');
}

/** Asserts a run failed with this exit code and `Error: <message>` on stderr. */
export function fails(run: CliRun, code: number, message: string): void {
  assert.equal(run.code, code, `exit code (stderr: ${run.stderr})`);
  assert.equal(run.stderr, `Error: ${message}\n`);
}
