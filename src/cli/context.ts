/**
 * What a running command gets: the io, the resolved global options, the printer for
 * `--write-out`, and a lazily built gateway client (commands that need no server, such as
 * `version` and `snapshot status`, never open a connection).
 *
 * Must never: hold state between two runs of `runCairnctl`.
 */
import { CliExit, ExitCode } from './exit.js';
import { GatewayClient } from './gateway/client.js';
import type { GlobalOptions } from './globals.js';
import type { CliIo } from './io.js';
import { newPrinter, type Printer } from './printers/index.js';

export class CommandContext {
  readonly io: CliIo;
  readonly globals: GlobalOptions;
  private clientInstance: GatewayClient | null = null;
  private printerInstance: Printer | null = null;
  private readonly valueOnly: boolean;
  /** The command line as given (yargs cannot tell `watch k --` from `watch k`). */
  readonly rawArgs: readonly string[];

  constructor(io: CliIo, globals: GlobalOptions, opts: { valueOnly?: boolean; rawArgs?: string[] } = {}) {
    this.io = io;
    this.globals = globals;
    this.valueOnly = opts.valueOnly ?? false;
    this.rawArgs = opts.rawArgs ?? [];
  }

  get printer(): Printer {
    if (!this.printerInstance) {
      this.printerInstance = newPrinter(this.globals.writeOut, this.io, { hex: this.globals.hex, valueOnly: this.valueOnly });
    }
    return this.printerInstance;
  }

  /** A printer with `--print-value-only` switched on. */
  valueOnlyPrinter(): Printer {
    return newPrinter(this.globals.writeOut, this.io, { hex: this.globals.hex, valueOnly: true });
  }

  async client(): Promise<GatewayClient> {
    if (!this.clientInstance) {
      const g = this.globals;
      this.clientInstance = await GatewayClient.create({
        endpoints: g.endpoints, dialTimeoutMs: g.dialTimeoutMs, commandTimeoutMs: g.commandTimeoutMs,
        tls: { caFile: g.cacert, certFile: g.cert, keyFile: g.key, insecureSkipVerify: g.insecureSkipTlsVerify },
        user: await this.credentials(),
      });
    }
    return this.clientInstance;
  }

  /** Unary call on the cluster with failover: the common case of every command. */
  async call(path: string, body: unknown): Promise<unknown> {
    return (await this.client()).call(path, body);
  }

  async close(): Promise<void> {
    await this.clientInstance?.close();
  }

  /** `--user name:password`, or `--user name --password p`, or a prompt on a terminal. */
  private async credentials(): Promise<{ name: string; password: string } | undefined> {
    const user = this.globals.user;
    if (user === undefined) return undefined;
    if (this.globals.password !== undefined) {
      if (user.includes(':')) throw new CliExit(ExitCode.BadArgs, 'username contains ":" with --password');
      return { name: user, password: this.globals.password };
    }
    const colon = user.indexOf(':');
    if (colon >= 0) return { name: user.slice(0, colon), password: user.slice(colon + 1) };
    return { name: user, password: await this.promptPassword() };
  }

  private async promptPassword(): Promise<string> {
    this.io.err('Password: ');
    const line = await readLine(this.io);
    if (line === null) throw new CliExit(ExitCode.BadArgs, 'failed to read password');
    return line;
  }
}

/** Reads one line from stdin (used for the password prompt and interactive commands). */
export async function readLine(io: CliIo): Promise<string | null> {
  const lines = lineReader(io);
  const r = await lines.next();
  return r.done ? null : r.value.replace(/\r?\n$/, '');
}

const readers = new WeakMap<object, AsyncGenerator<string>>();

/**
 * One shared line iterator per stdin, so several readers take turns without losing bytes.
 * Lines keep their '\n' (as Go's ReadString): a last line without one means input ended.
 */
export function lineReader(io: CliIo): AsyncGenerator<string> {
  let it = readers.get(io.stdin);
  if (!it) {
    it = splitLines(io.stdin);
    readers.set(io.stdin, it);
  }
  return it;
}

/** Longest line accepted from stdin: txn and watch lines are short; a runaway input is an error. */
const maxStdinLineBytes = 16 * 1024 * 1024;

async function* splitLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let pending = '';
  for await (const chunk of stream) {
    pending += chunk.toString();
    if (pending.length > maxStdinLineBytes) throw new CliExit(ExitCode.InvalidInput, 'input line too long');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl + 1);
      pending = pending.slice(nl + 1);
      yield line;
    }
  }
  if (pending !== '') yield pending;
}

/** Reads all of stdin (put's value). */
export async function readAll(io: CliIo, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of io.stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += b.length;
    if (total > maxBytes) throw new CliExit(ExitCode.InvalidInput, `input larger than ${maxBytes} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
