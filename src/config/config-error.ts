/**
 * ConfigError: the one error type of src/config. Its message always names the offending setting
 * and where the value came from (a flag, an environment variable, or a key of the config file),
 * because an operator reading a failed start-up needs to know which line of which file to fix.
 *
 * Owns: error construction and the wording of "where it came from". Must never: print, exit the
 * process, or be sent to clients (start-up errors are not CairnError values; they never reach
 * the API).
 */

/** Where a raw setting value came from, in words an operator can act on. */
export interface Origin {
  readonly kind: 'flag' | 'cairn-env' | 'etcd-env' | 'file' | 'default';
  /** '--heartbeat-interval', 'ETCD_HEARTBEAT_INTERVAL', 'key "name" in config file /x.yaml', ... */
  readonly label: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(message: string) {
    super(message);
  }
}

/** `invalid value "abc" for --heartbeat-interval: expected a positive integer (milliseconds)` */
export function invalidValue(raw: string | readonly string[], origin: Origin, expected: string): ConfigError {
  const shown = typeof raw === 'string' ? raw : raw.join(',');
  return new ConfigError(`invalid value ${JSON.stringify(shown)} for ${describeOrigin(origin)}: ${expected}`);
}

/** The origin as it reads inside a sentence: the default is named after its flag. */
export function describeOrigin(origin: Origin): string {
  return origin.label;
}

/** `--name=n1`, `ETCD_NAME=n1`, or `key "name" in config file /x.yaml (value "n1")`. */
export function withValue(origin: Origin, value: string): string {
  return origin.kind === 'file' || origin.kind === 'default'
    ? `${origin.label} (value ${JSON.stringify(value)})`
    : `${origin.label}=${value}`;
}

/** ` (from ETCD_NAME)` after a flag's name, or nothing when the flag itself gave the value. */
export function fromClause(flag: string, origin: Origin): string {
  return origin.label === `--${flag}` ? '' : ` (from ${origin.label})`;
}

export function flagOrigin(flag: string): Origin {
  return { kind: 'flag', label: `--${flag}` };
}

export function defaultOrigin(flag: string): Origin {
  return { kind: 'default', label: `the default of --${flag}` };
}

export function fileOrigin(keyPath: string, file: string): Origin {
  return { kind: 'file', label: `key "${keyPath}" in config file ${file}` };
}
