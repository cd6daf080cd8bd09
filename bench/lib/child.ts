/**
 * Runs a bench helper or module in a child process and reads its result line: the load
 * generator (`LOADGEN_RESULT {json}`) and other bench modules (`BENCH_RESULT {json}`). Works
 * both compiled (dist/bench/..., plain node) and from TypeScript (bench/..., node --import tsx).
 *
 * Owns the children it spawns, killed at their deadline. Must never leave one running.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadSpec } from './loadgen.js';

const here = dirname(fileURLToPath(import.meta.url));
/** '.ts' under tsx, '.js' compiled. */
export const moduleExt = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
/** Keep at most this much of a child's output. */
const maxChildOutputBytes = 4 << 20;

export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** `node [--import tsx] file args...`, killed after `timeoutMs`. */
export function runNodeFile(file: string, args: string[], timeoutMs: number, cwd: string): Promise<ChildOutcome> {
  const nodeArgs = file.endsWith('.ts') ? ['--import', 'tsx', file, ...args] : [file, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { if (stdout.length < maxChildOutputBytes) stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { if (stderr.length < maxChildOutputBytes) stderr += c.toString(); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** The JSON after the last line starting with `marker `, or undefined. */
export function lastResultLine(stdout: string, marker: string): unknown {
  const lines = stdout.split('\n').filter((l) => l.startsWith(`${marker} `));
  if (lines.length === 0) return undefined;
  return JSON.parse(lines[lines.length - 1].slice(marker.length + 1));
}

/** Run one load in a separate process. */
export async function runLoadInChild(spec: LoadSpec, cwd: string): Promise<LoadResult> {
  const file = join(here, `loadgen-main${moduleExt}`);
  if (!existsSync(file)) throw new Error(`load generator missing: ${file}`);
  const slackMs = 30_000;
  const out = await runNodeFile(file, [JSON.stringify(spec)], spec.warmupMs + spec.durationMs + slackMs, cwd);
  const result = lastResultLine(out.stdout, 'LOADGEN_RESULT') as LoadResult | undefined;
  if (result === undefined) {
    throw new Error(`load generator gave no result (code ${out.code}, timed out ${out.timedOut}): ${out.stderr.slice(-2000)}`);
  }
  return result;
}
