/**
 * The glue between yargs and a command's action: a command module registers its yargs
 * definitions and, in each handler, selects the action to run with the parsed arguments.
 * main.ts runs the selected action after parsing, so parsing errors never half-run a command.
 *
 * Must never: do I/O while yargs is parsing.
 */
import type { Argv } from 'yargs';
import type { CommandContext } from './context.js';

export type Args = Record<string, unknown> & { _: (string | number)[] };
export type Action = (ctx: CommandContext) => Promise<void>;
export type Select = (argv: Args, action: Action) => void;
export type Register = (y: Argv, select: Select) => Argv;

/**
 * The positional arguments of a command as one list, as etcdctl's cobra hands them over.
 * Commands declare no yargs positionals (a positional named `key` would collide with the
 * global TLS flag `--key`); their usage line names the arguments instead.
 */
export function positionals(argv: Args, commandDepth: number): string[] {
  // After `--` every word is an argument even if it starts with '-' (`put k -- -v`), as in cobra.
  return [...positionalsBeforeDashDash(argv, commandDepth), ...afterDashDash(argv)];
}

/** The arguments before `--` only (`watch` gives the words after `--` another meaning). */
export function positionalsBeforeDashDash(argv: Args, commandDepth: number): string[] {
  return argv._.slice(commandDepth).map(String);
}

/** The option names yargs knows at this point (getOptions exists in yargs 18, not in @types/yargs 17). */
function optionKeys(y: Argv): string[] {
  return Object.keys((y as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key);
}

/** A command's usage line and flags, etcdctl-style: `cairnctl get [options] <key> [range_end]`. */
export function usage(line: string, flags?: (y: Argv) => Argv): (y: Argv) => Argv {
  return (y) => {
    const before = new Set(optionKeys(y));
    const withFlags = flags ? flags(y.usage(`cairnctl ${line}`)) : y.usage(`cairnctl ${line}`);
    // The command's own flags in a group of their own, listed before the global ones (as etcdctl).
    const own = optionKeys(withFlags).filter((k) => !before.has(k));
    return own.length > 0 ? withFlags.group([...own, 'help'], 'OPTIONS:') : withFlags;
  };
}

/** The arguments after `--` (commands run by `watch`, `lock`, `elect`). */
export function afterDashDash(argv: Args): string[] {
  const rest = argv['--'];
  return Array.isArray(rest) ? rest.map(String) : [];
}

export function flagString(argv: Args, name: string, fallback = ''): string {
  const v = argv[name];
  if (v === undefined || v === null) return fallback;
  return Array.isArray(v) ? String(v[v.length - 1]) : String(v);
}

export function flagBool(argv: Args, name: string): boolean {
  const v = argv[name];
  return Array.isArray(v) ? v[v.length - 1] === true : v === true;
}
