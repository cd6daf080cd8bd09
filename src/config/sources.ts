/**
 * The three places settings come from, each read into `flag name → raw value + origin`:
 * the command line, the environment (CAIRN_* and ETCD_*), and the YAML config file.
 *
 * Argument parsing is hand-written, not node:util parseArgs or yargs, for exact etcd behaviour
 * and messages: parseArgs refuses `--bool=false` and reads `-name` as bundled short options;
 * yargs accepts camelCase aliases and `--no-` prefixes etcd does not, coerces "0x10" to 16, and
 * its strict-mode messages cannot say which source a bad value came from. The grammar is Go's
 * flag package (which etcd uses): `--flag value`, `--flag=value`, one or two dashes, booleans
 * only as `--flag` or `--flag=value`, the last occurrence wins, and no positional arguments.
 *
 * Owns: syntax of each source, unknown-name detection. Must never: interpret values (build.ts),
 * or read anything but the one config file it is given.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError, fileOrigin, flagOrigin, type Origin } from './config-error.js';
import { COMPAT_BY_FLAG, SETTINGS, SETTINGS_BY_FLAG, envName, isBoolFlag } from './settings.js';
import type { RawEntry, RawValue } from './values.js';

export type RawSettings = Map<string, RawEntry>;

export type ArgvResult = { kind: 'settings'; settings: RawSettings } | { kind: 'help' };

/** Reads argv (without node and script). Stops at --help/-h, like Go's flag package. */
export function readArgv(argv: readonly string[]): ArgvResult {
  const settings: RawSettings = new Map();
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index];
    const dashes = /^-{1,2}(?!-)/.exec(token);
    if (dashes === null || token.length === dashes[0].length) throw unexpectedArgument(token);
    const body = token.slice(dashes[0].length);
    const eq = body.indexOf('=');
    const flag = eq < 0 ? body : body.slice(0, eq);
    if (flag === 'h' || flag === 'help') return { kind: 'help' };
    const isBool = isBoolFlag(flag);
    if (isBool === undefined) throw new ConfigError(`unknown flag --${flag} (see cairn --help)`);
    let raw: string;
    if (eq >= 0) raw = body.slice(eq + 1);
    else if (isBool) raw = 'true';
    else if (index + 1 < argv.length) raw = argv[++index];
    else throw new ConfigError(`flag --${flag} needs a value`);
    settings.set(flag, { value: raw, origin: flagOrigin(flag) });
  }
  return { kind: 'settings', settings };
}

function unexpectedArgument(token: string): ConfigError {
  if (token.startsWith('---')) return new ConfigError(`bad flag syntax: ${token}`);
  return new ConfigError(`unexpected argument ${JSON.stringify(token)}: cairn takes only flags (see cairn --help)`);
}

/** Every environment name that maps to a setting: ETCD_X and CAIRN_X for each flag. */
function knownEnvFlags(prefix: 'ETCD_' | 'CAIRN_'): Map<string, string> {
  const names = new Map<string, string>();
  const flags = [...SETTINGS.map((spec) => spec.flag), ...COMPAT_BY_FLAG.keys()];
  for (const flag of flags) if (flag !== 'help' && flag !== 'version') names.set(envName(prefix, flag), flag);
  return names;
}

/**
 * Variables Kubernetes injects for every Service in the namespace (a Service named `cairn`
 * gives CAIRN_PORT, CAIRN_SERVICE_HOST, CAIRN_PORT_2379_TCP_ADDR, ...). They are not settings
 * and must not stop a pod from starting.
 */
const SERVICE_LINK_SHAPE = /_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)?)$/;

/** etcd reads this one variable itself, outside its flags; it means nothing to Cairn. */
const ETCD_NON_FLAG_VARIABLES = new Set(['ETCD_UNSUPPORTED_ARCH']);

export interface EnvResult {
  readonly settings: RawSettings;
  readonly warnings: string[];
}

/**
 * Reads `prefix`* variables. Empty values count as unset (etcd does the same, and systemd
 * EnvironmentFiles often carry `ETCD_X=""`). An unknown CAIRN_* variable is an error (a typo in
 * our own namespace); an unknown ETCD_* variable is a warning, which is what etcd 3.4 itself
 * does ("unrecognized environment variable"), so an etcd EnvironmentFile from a newer etcd loads.
 */
export function readEnv(env: Readonly<Record<string, string | undefined>>, prefix: 'ETCD_' | 'CAIRN_'): EnvResult {
  const known = knownEnvFlags(prefix);
  const settings: RawSettings = new Map();
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    const raw = env[name];
    if (!name.startsWith(prefix) || raw === undefined || raw === '') continue;
    const flag = known.get(name);
    if (flag !== undefined) {
      settings.set(flag, { value: raw, origin: { kind: prefix === 'ETCD_' ? 'etcd-env' : 'cairn-env', label: name } });
    } else if (SERVICE_LINK_SHAPE.test(name) || ETCD_NON_FLAG_VARIABLES.has(name)) {
      continue;
    } else if (prefix === 'CAIRN_') {
      throw new ConfigError(`unknown environment variable ${name}`);
    } else {
      warnings.push(`unrecognized environment variable ${name}=${raw} (ignored)`);
    }
  }
  return { settings, warnings };
}

/** The two nested sections of etcd's config file, and the flag each of their keys stands for. */
const TLS_SECTIONS: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map([
  ['client-transport-security', new Map([
    ['cert-file', 'cert-file'], ['key-file', 'key-file'], ['client-cert-auth', 'client-cert-auth'],
    ['trusted-ca-file', 'trusted-ca-file'], ['auto-tls', 'auto-tls'], ['crl-file', 'client-crl-file'],
    ['allowed-hostname', 'client-cert-allowed-hostname'],
  ])],
  ['peer-transport-security', new Map([
    ['cert-file', 'peer-cert-file'], ['key-file', 'peer-key-file'], ['client-cert-auth', 'peer-client-cert-auth'],
    ['trusted-ca-file', 'peer-trusted-ca-file'], ['auto-tls', 'peer-auto-tls'], ['crl-file', 'peer-crl-file'],
    ['allowed-cn', 'peer-cert-allowed-cn'], ['allowed-hostname', 'peer-cert-allowed-hostname'],
  ])],
]);

/** Reads etcd's YAML config file format. `via` says where the path came from, for errors. */
export function readConfigFile(path: string, via: Origin): RawSettings {
  const data = parseYamlFile(path, via);
  const settings: RawSettings = new Map();
  for (const [key, value] of Object.entries(data)) {
    const section = TLS_SECTIONS.get(key);
    if (section === undefined) {
      addFileKey(settings, key, key, value, path);
      continue;
    }
    if (value === null || value === undefined) continue;
    if (!isPlainObject(value)) throw new ConfigError(`key "${key}" in config file ${path} must be a mapping`);
    for (const [inner, innerValue] of Object.entries(value)) {
      const flag = section.get(inner);
      const keyPath = `${key}.${inner}`;
      if (flag === undefined) throw new ConfigError(`unknown key "${keyPath}" in config file ${path}`);
      if (settings.has(flag) && innerValue !== null) {
        throw new ConfigError(`config file ${path} sets ${flag} twice: as "${flag}" and as "${keyPath}"`);
      }
      addSetting(settings, flag, keyPath, innerValue, path);
    }
  }
  return settings;
}

function parseYamlFile(path: string, via: Origin): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(`config file ${path} (from ${via.label}) does not exist`);
    throw new ConfigError(`cannot read config file ${path} (from ${via.label}): ${(error as Error).message}`);
  }
  // YAML 1.2 (not 1.1): `proxy: off` stays the string "off"; big integers stay exact as bigint.
  const document = parseDocument(text, { intAsBigInt: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${document.errors[0].message.split('\n')[0]}`);
  }
  const data: unknown = document.toJS();
  if (data === null || data === undefined) return {};
  if (!isPlainObject(data)) throw new ConfigError(`config file ${path} must be a mapping of setting names to values`);
  return data;
}

function addFileKey(settings: RawSettings, key: string, keyPath: string, value: unknown, path: string): void {
  const spec = SETTINGS_BY_FLAG.get(key);
  if (spec === undefined && !COMPAT_BY_FLAG.has(key)) throw new ConfigError(`unknown key "${key}" in config file ${path}`);
  if (spec !== undefined && !spec.inFile) throw new ConfigError(`key "${key}" is not allowed in config file ${path}`);
  if (settings.has(key) && value !== null) {
    throw new ConfigError(`config file ${path} sets ${key} twice: as "${key}" and inside a transport-security section`);
  }
  addSetting(settings, key, keyPath, value, path);
}

/** Stores one YAML value as text; null (`data-dir:` with nothing after it) means "not set". */
function addSetting(settings: RawSettings, flag: string, keyPath: string, value: unknown, path: string): void {
  if (value === null || value === undefined) return;
  const origin = fileOrigin(keyPath, path);
  settings.set(flag, { value: yamlToRaw(value, origin), origin });
}

function yamlToRaw(value: unknown, origin: Origin): RawValue {
  if (Array.isArray(value)) return value.map((item) => yamlScalar(item, origin));
  return yamlScalar(value, origin);
}

function yamlScalar(value: unknown, origin: Origin): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  throw new ConfigError(`invalid value for ${origin.label}: expected a string, number, boolean or list of them`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map);
}
