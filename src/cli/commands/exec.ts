/**
 * Running a user's command for `watch … -- cmd`, `lock name cmd` and `elect`: spawned without a
 * shell, with extra environment variables, its output copied to cairnctl's own output.
 *
 * Must never: run through a shell (arguments are passed as given), or outlive cairnctl.
 */
import { spawn } from 'node:child_process';
import type { CliIo } from '../io.js';

export interface ExecResult { code: number | null; signal: NodeJS.Signals | null; error?: Error }

export function runUserCommand(io: CliIo, argv: string[], extraEnv: Record<string, string>, signal?: AbortSignal): Promise<ExecResult> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...io.env, ...extraEnv };
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], signal });
    child.stdout.on('data', (d: Buffer) => io.out(d));
    child.stderr.on('data', (d: Buffer) => io.err(d.toString('utf8')));
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('close', (code, sig) => resolve({ code, signal: sig }));
  });
}

/** Go's exec error text: `exit status 3`, `signal: killed`, or the spawn error. */
export function execErrorText(r: ExecResult, file: string): string | null {
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `exec: ${JSON.stringify(file)}: executable file not found in $PATH`;
    return r.error.message;
  }
  if (r.signal) return `signal: ${r.signal === 'SIGKILL' ? 'killed' : r.signal.toLowerCase().replace(/^sig/, '')}`;
  if (r.code !== 0) return `exit status ${r.code}`;
  return null;
}

/** Go's `%q` of a string slice, as in `command ["a" "b"] error (...)`. */
export function quoteArgs(argv: string[]): string {
  return '[' + argv.map((a) => JSON.stringify(a)).join(' ') + ']';
}
