/**
 * The process boundary of cairnctl: where output goes, where input comes from, which
 * environment is read. Commands write only through a `CliIo`, so tests can capture every byte
 * and the bin entry can hand over the real process streams.
 *
 * Must never: call process.exit (the caller sets the exit code), or write to process.stdout
 * directly from a command.
 */
import { Readable } from 'node:stream';

export interface CliIo {
  /** Write text or bytes to standard output. */
  out(data: string | Uint8Array): void;
  /** Write text to standard error. */
  err(data: string): void;
  /** Standard input, read by `put` (value from stdin), `txn`, interactive `watch`. */
  stdin: Readable;
  /** Whether stdin is a terminal (interactive prompts, password prompt). */
  stdinIsTty: boolean;
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves when SIGINT/SIGTERM asks a long-running command (watch, lock, keep-alive) to stop. */
  interrupted: Promise<void>;
  /**
   * Called by commands that end cleanly on Ctrl-C (lock and elect release what they hold and
   * exit 0, as etcdctl); otherwise cairnctl ends by the signal, as etcdctl's watch does.
   */
  interruptHandled?(): void;
}

/** The process io, plus which signal (if any) interrupted the command. */
export interface ProcessIo extends CliIo {
  signal(): NodeJS.Signals | null;
}

/** The real process's streams, for src/bin/cairnctl.ts. */
export function processIo(): ProcessIo {
  let stop!: () => void;
  let received: NodeJS.Signals | null = null;
  const interrupted = new Promise<void>((resolve) => { stop = resolve; });
  const onSignal = (sig: NodeJS.Signals): void => { received = sig; stop(); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: () => received,
    interruptHandled: () => { received = null; },
    out: (d) => { process.stdout.write(d); },
    err: (d) => { process.stderr.write(d); },
    stdin: process.stdin,
    stdinIsTty: Boolean(process.stdin.isTTY),
    env: process.env,
    interrupted,
  };
}

/** An in-memory io for unit tests: collects output in strings. */
export function memoryIo(input: string, env: Record<string, string> = {}): CliIo & { stdoutText(): string; stderrText(): string; interrupt(): void } {
  const outChunks: Buffer[] = [];
  let errText = '';
  let stop!: () => void;
  const interrupted = new Promise<void>((resolve) => { stop = resolve; });
  return {
    out: (d) => { outChunks.push(typeof d === 'string' ? Buffer.from(d) : Buffer.from(d)); },
    err: (d) => { errText += d; },
    stdin: Readable.from([Buffer.from(input)]),
    stdinIsTty: false,
    env,
    interrupted,
    stdoutText: () => Buffer.concat(outChunks).toString('utf8'),
    stderrText: () => errText,
    interrupt: () => stop(),
  };
}
