/**
 * `cairn --help`: every flag with its default and meaning, grouped as etcd's --help groups them,
 * generated from the settings tables so no flag can be missing.
 *
 * Owns: the layout of the help text. Must never: print (the bin does).
 */
import { COMPAT_SETTINGS, HELP_GROUPS, SETTINGS, type SettingSpec } from './settings.js';

function flagBlock(spec: SettingSpec): string {
  const shown = spec.defaultShown ?? spec.defaultRaw;
  return `  --${spec.flag} '${shown}'\n    ${spec.help}`;
}

function buildHelpText(): string {
  const lines: string[] = [
    'Usage:',
    '',
    '  cairn [flags]',
    '    Start a Cairn member (an etcd v3 API compatible key-value store).',
    '',
    '  cairn --version',
    '    Show the version of cairn.',
    '',
    '  cairn -h | --help',
    '    Show this help.',
    '',
    'Flags are written --flag value or --flag=value (one dash also works); booleans as --flag or',
    '--flag=true|false. Every flag can also be set by the environment variable CAIRN_<FLAG> or',
    'ETCD_<FLAG> (upper case, dashes as underscores: ETCD_INITIAL_CLUSTER) or by the key <flag> in',
    'the YAML file of --config-file (etcd\'s format). Precedence: flag > CAIRN_* > ETCD_* >',
    'config file > default. Unlike etcd, flags and environment still apply when a config file is given.',
  ];
  for (const group of HELP_GROUPS) {
    lines.push('', `${group}:`);
    for (const spec of SETTINGS) if (spec.group === group) lines.push(flagBlock(spec));
  }
  lines.push('', 'Accepted for etcd compatibility, with no effect (a warning names them):');
  for (const compat of COMPAT_SETTINGS) if (compat.policy === 'ignored') lines.push(`  --${compat.flag}  (${compat.why})`);
  lines.push('', "Not supported; refused unless set to etcd's default value:");
  for (const compat of COMPAT_SETTINGS) {
    if (compat.policy === 'refused') lines.push(`  --${compat.flag}  (${compat.why})`);
  }
  return `${lines.join('\n')}\n`;
}

export const helpText: string = buildHelpText();
