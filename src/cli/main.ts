/**
 * cairnctl's entry: builds the yargs parser (global flags, every command, help, completion),
 * parses, runs the selected command, and turns every failure into etcdctl's `Error: …` line
 * and exit code. `runCairnctl(args, io)` resolves with the exit code; it never exits itself.
 *
 * Must never: call process.exit, or talk to a server before parsing succeeded.
 */
import yargs, { type Argv } from 'yargs';
import type { Action, Args, Select } from './command.js';
import { registerAll } from './commands/index.js';
import { CommandContext } from './context.js';
import { CliExit, ExitCode } from './exit.js';
import { GatewayError } from './gateway/client.js';
import { globalDefaults, resolveGlobals } from './globals.js';
import type { CliIo } from './io.js';
import { formats } from './printers/printer.js';

const globalGroup = 'GLOBAL OPTIONS:';

function globalFlags(y: Argv): Argv {
  const g = { global: true, group: globalGroup } as const;
  return y
    .option('endpoints', { ...g, type: 'string', describe: `gRPC endpoints [default: ${globalDefaults.endpoints}]` })
    .option('dial-timeout', { ...g, type: 'string', describe: `dial timeout for client connections [default: ${globalDefaults['dial-timeout']}]` })
    .option('command-timeout', { ...g, type: 'string', describe: `timeout for short running command (excluding dial timeout) [default: ${globalDefaults['command-timeout']}]` })
    .option('write-out', { ...g, alias: 'w', type: 'string', describe: 'set the output format (fields, json, simple, table) [default: simple]' })
    .option('hex', { ...g, type: 'boolean', describe: 'print byte strings as hex encoded strings' })
    .option('cacert', { ...g, type: 'string', describe: 'verify certificates of TLS-enabled secure servers using this CA bundle' })
    .option('cert', { ...g, type: 'string', describe: 'identify secure client using this TLS certificate file' })
    .option('key', { ...g, type: 'string', describe: 'identify secure client using this TLS key file' })
    .option('insecure-skip-tls-verify', { ...g, type: 'boolean', describe: 'skip server certificate verification (CAUTION: this option should be enabled only for testing purposes)' })
    .option('insecure-transport', { ...g, type: 'boolean', describe: 'disable transport security for client connections (accepted for etcdctl compatibility)' })
    .option('user', { ...g, type: 'string', describe: 'username[:password] for authentication (prompt if password is not supplied)' })
    .option('password', { ...g, type: 'string', describe: 'password for authentication (if this option is used, --user option shouldn\'t include password)' })
    .option('debug', { ...g, type: 'boolean', describe: 'enable client-side debug logging' })
    .option('keepalive-time', { ...g, type: 'string', describe: 'keepalive time for client connections (accepted for etcdctl compatibility)' })
    .option('keepalive-timeout', { ...g, type: 'string', describe: 'keepalive timeout for client connections (accepted for etcdctl compatibility)' });
}

/** "Unknown arguments: a, b" from yargs → etcdctl's "unknown flag: --a". */
function translateYargsMessage(msg: string): string {
  const unknown = /^Unknown arguments?: (.*)$/.exec(msg);
  if (unknown) {
    const first = unknown[1].split(', ')[0];
    return `unknown ${first.length === 1 ? 'shorthand flag' : 'flag'}: ${first.length === 1 ? `'${first}' in -${first}` : `--${first}`}`;
  }
  const unknownCommand = /^Unknown command: (.*)$/.exec(msg);
  if (unknownCommand) return `unknown command ${JSON.stringify(unknownCommand[1])} for "cairnctl"\nRun 'cairnctl --help' for usage.`;
  return msg;
}

export function buildParser(select: Select): Argv {
  const y = yargs()
    .scriptName('cairnctl')
    .usage('A simple command line client for Cairn (and etcd) over HTTP.\n\nUsage: $0 <command> [options]')
    .parserConfiguration({
      'parse-numbers': false, 'parse-positional-numbers': false, 'dot-notation': false,
      'populate--': true, 'boolean-negation': false, 'duplicate-arguments-array': true,
    })
    .strictOptions()
    .exitProcess(false)
    .version(false)
    .help('help').alias('help', 'h')
    .wrap(Math.min(120, process.stdout.columns ?? 100))
    .completion('__complete', false)
    .hide('__complete');
  globalFlags(y);
  registerAll(y, select);
  return y.demandCommand(1, '').recommendCommands();
}

export async function runCairnctl(args: string[], io: CliIo): Promise<number> {
  if (args[0] === '--get-yargs-completions') return complete(args.slice(1), io);
  let selected: { argv: Args; action: Action } | null = null;
  let helpText = '';
  let failure: CliExit | null = null;
  const parser = buildParser((argv, action) => { selected = { argv, action }; });
  parser.fail((msg, err, yi) => {
    if (err) throw err;
    yi.showHelp((s: string) => { helpText = s; });
    failure = msg ? new CliExit(ExitCode.Error, translateYargsMessage(msg), true) : new CliExit(ExitCode.Success, '', true);
  });
  let output = '';
  let parsed: Args | null = null;
  try {
    await parser.parseAsync(args, {}, (_err, argv, out) => { output = out ?? ''; parsed = argv as Args; });
  } catch (e) {
    return report(io, e, helpText);
  }
  if (failure) return report(io, failure, helpText);
  if (!selected && !output && parsed !== null && (parsed as Args)._.length > 0) {
    // yargs' strictCommands would also reject a leaf command's positional arguments.
    const unknown = String((parsed as Args)._[0]);
    return report(io, new CliExit(ExitCode.Error, translateYargsMessage(`Unknown command: ${unknown}`)), '');
  }
  if (!selected) {
    if (output) io.out(output.endsWith('\n') ? output : output + '\n');
    return ExitCode.Success;
  }
  return runSelected(io, selected, args);
}

/**
 * Shell completion: the subcommands and flags valid after the words typed so far, read from
 * the help of the command those words name (so completion never disagrees with --help).
 */
async function complete(words: string[], io: CliIo): Promise<number> {
  const typed = words[0] === 'cairnctl' ? words.slice(1) : words;
  const current = typed.length > 0 ? typed[typed.length - 1] : '';
  const path = typed.slice(0, -1).filter((w) => !w.startsWith('-'));
  let help = '';
  await buildParser(() => undefined).parseAsync([...path, '--help'], {}, (_e, _a, out) => { help = out ?? ''; });
  const prefix = ['cairnctl', ...path].join(' ') + ' ';
  const found = new Set<string>();
  for (const line of help.split('\n')) {
    const t = line.trim();
    if (current.startsWith('-')) {
      for (const m of t.matchAll(/(?:^|, )(--[a-z][a-z0-9-]*)/g)) found.add(m[1]);
    } else if (t.startsWith(prefix)) {
      const name = t.slice(prefix.length).split(/\s/)[0];
      if (name && !name.startsWith('[') && !name.startsWith('<')) found.add(name);
    }
  }
  for (const c of found) if (c.startsWith(current)) io.out(c + '\n');
  return ExitCode.Success;
}

async function runSelected(io: CliIo, selected: { argv: Args; action: Action }, rawArgs: string[]): Promise<number> {
  let ctx: CommandContext | null = null;
  try {
    ctx = new CommandContext(io, resolveGlobals(selected.argv, io.env), { rawArgs });
    // As etcdctl, the output format is checked before the command runs.
    if (!(formats as readonly string[]).includes(ctx.globals.writeOut)) throw new CliExit(ExitCode.BadFeature, 'unsupported output format');
    await selected.action(ctx);
    return ExitCode.Success;
  } catch (e) {
    return report(io, e, '');
  } finally {
    await ctx?.close().catch(() => undefined);
  }
}

function report(io: CliIo, e: unknown, usage: string): number {
  if (e instanceof CliExit) {
    if (e.showUsage && usage) io.out(usage.endsWith('\n') ? usage : usage + '\n');
    if (e.message) io.err(`Error: ${e.message}\n`);
    return e.code;
  }
  if (e instanceof GatewayError) {
    io.err(`Error: ${e.message}\n`);
    return ExitCode.Error;
  }
  const err = e as { message?: string; code?: string };
  io.err(`Error: ${err?.message ?? String(e)}\n`);
  return ExitCode.Error;
}
