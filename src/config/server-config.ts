/**
 * The `cairn` server's configuration, from flags, environment and YAML file, as one typed and
 * validated Config. This is the module others import.
 *
 * Precedence, highest first: command-line flag > CAIRN_* variable > ETCD_* variable > key in
 * the --config-file YAML > default. This differs from etcd, which ignores every flag and
 * variable once a config file is given; here a file can hold the common settings and a flag or
 * variable can still override one of them (per member, per container). etcd also refuses an
 * ETCD_* variable shadowed by a flag; Cairn lets the flag win and warns.
 *
 * Owns: the merge of the three sources and the entry point. Must never: exit the process, print,
 * log, or touch disk beyond reading the one config file (the bin reports errors and warnings).
 */
import { ConfigError, withValue, type Origin } from './config-error.js';
import { buildConfig, Resolved } from './build.js';
import { helpText } from './help.js';
import { readArgv, readConfigFile, readEnv, type RawSettings } from './sources.js';
import { parseBool, scalar } from './values.js';
import type { Config } from './types.js';

export { ConfigError } from './config-error.js';
export { helpText } from './help.js';
export { DEFAULTS } from './types.js';
export type { AuthTokenConfig, ClusterMember, ClusterState, CompactionMode, Config, JwtSignMethod, LogLevel, MetricsLevel, TlsConfig, TlsVersion } from './types.js';
export { clusterText, portOf, urlText } from './urls.js';

export type LoadResult =
  | { kind: 'config'; config: Config; warnings: string[] }
  | { kind: 'help'; text: string }
  | { kind: 'version' };

/**
 * @param argv the arguments after node and the script (process.argv.slice(2))
 * @param env the environment (process.env)
 * @throws ConfigError naming the setting and where its value came from
 */
export function loadServerConfig(argv: string[], env: Record<string, string | undefined>): LoadResult {
  const fromArgv = readArgv(argv);
  if (fromArgv.kind === 'help') return { kind: 'help', text: helpText };
  const flags = fromArgv.settings;
  const version = flags.get('version');
  if (version !== undefined && parseBool(version)) return { kind: 'version' };
  const cairnEnv = readEnv(env, 'CAIRN_');
  const etcdEnv = readEnv(env, 'ETCD_');
  const warnings = [...cairnEnv.warnings, ...etcdEnv.warnings];
  const layers = [flags, cairnEnv.settings, etcdEnv.settings];
  const configPath = pickConfigFile(layers);
  if (configPath !== null) layers.push(readConfigFile(configPath.path, configPath.origin));
  const merged = mergeLayers(layers, warnings);
  merged.delete('config-file');
  merged.delete('version');
  const config = buildConfig(new Resolved(merged, warnings), configPath?.path ?? null);
  return { kind: 'config', config, warnings };
}

function pickConfigFile(layers: readonly RawSettings[]): { path: string; origin: Origin } | null {
  for (const layer of layers) {
    const entry = layer.get('config-file');
    if (entry === undefined) continue;
    const path = scalar(entry).trim();
    if (path === '') throw new ConfigError(`empty value for ${entry.origin.label}: expected the path of a YAML file`);
    return { path, origin: entry.origin };
  }
  return null;
}

/** First layer that sets a setting wins; an environment value hidden by a flag is worth a warning. */
function mergeLayers(layers: readonly RawSettings[], warnings: string[]): RawSettings {
  const merged: RawSettings = new Map();
  for (const layer of layers) {
    for (const [flag, entry] of layer) {
      const winner = merged.get(flag);
      if (winner === undefined) {
        merged.set(flag, entry);
      } else if (entry.origin.kind !== 'file' && entry.origin.kind !== winner.origin.kind && !sameValue(entry, winner)) {
        warnings.push(`${withValue(entry.origin, String(entry.value))} is overridden by ${winner.origin.label}`);
      }
    }
  }
  return merged;
}

function sameValue(a: { value: unknown }, b: { value: unknown }): boolean {
  return String(a.value) === String(b.value);
}
