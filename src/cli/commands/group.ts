/**
 * Command groups (`lease`, `member`, `endpoint`, …): a group given without a subcommand prints
 * its help and exits 0, as etcdctl does.
 *
 * Must never: run anything but help.
 */
import type { Argv } from 'yargs';
import type { Args, Select } from '../command.js';

export function group(y: Argv, select: Select, name: string, describe: string, sub: (y: Argv) => Argv): Argv {
  let builder: Argv | null = null;
  return y.command(name, describe, (g) => { builder = g; return sub(g.usage(`cairnctl ${name} <subcommand>`)); }, (a) => {
    let help = '';
    builder?.showHelp((s: string) => { help = s; });
    select(a as Args, async (ctx) => { ctx.io.out(help.endsWith('\n') ? help : help + '\n'); });
  });
}
