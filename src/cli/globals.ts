/**
 * The global options every command shares — endpoints, timeouts, output format, TLS, user —
 * resolved from flags first, then `CAIRNCTL_*`, then `ETCDCTL_*` environment variables, then
 * etcdctl's defaults.
 *
 * Must never: read process.env directly (the io carries the environment), or open connections.
 */
import { CliExit, ExitCode } from './exit.js';
import { parseGoBool, parseGoDurationMs } from './go-parse.js';

export interface GlobalOptions {
  endpoints: string[];
  dialTimeoutMs: number;
  commandTimeoutMs: number;
  writeOut: string;
  hex: boolean;
  cacert?: string;
  cert?: string;
  key?: string;
  insecureSkipTlsVerify: boolean;
  /** As given: `name` or `name:password`. */
  user?: string;
  password?: string;
  debug: boolean;
}

/** Flag name → environment suffix (ETCDCTL_<suffix>, CAIRNCTL_<suffix>). */
export const globalFlagEnv: Record<string, string> = {
  endpoints: 'ENDPOINTS', 'dial-timeout': 'DIAL_TIMEOUT', 'command-timeout': 'COMMAND_TIMEOUT',
  'write-out': 'WRITE_OUT', hex: 'HEX', cacert: 'CACERT', cert: 'CERT', key: 'KEY',
  'insecure-skip-tls-verify': 'INSECURE_SKIP_TLS_VERIFY', user: 'USER', password: 'PASSWORD', debug: 'DEBUG',
  'insecure-transport': 'INSECURE_TRANSPORT', 'keepalive-time': 'KEEPALIVE_TIME', 'keepalive-timeout': 'KEEPALIVE_TIMEOUT',
};

export const globalDefaults = {
  endpoints: '127.0.0.1:2379', 'dial-timeout': '2s', 'command-timeout': '5s', 'write-out': 'simple',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

/** The raw text of one global option: the flag if given, else CAIRNCTL_*, else ETCDCTL_*. */
function raw(name: string, flags: Record<string, unknown>, env: Env): string | boolean | undefined {
  const f = flags[name];
  // A repeated flag: the last one wins, except --endpoints, a list that accumulates (pflag's StringSlice).
  if (Array.isArray(f)) return name === 'endpoints' ? f.map(String).join(',') : (f[f.length - 1] as string | boolean);
  if (f !== undefined && f !== null) return f as string | boolean;
  const suffix = globalFlagEnv[name];
  return env[`CAIRNCTL_${suffix}`] ?? env[`ETCDCTL_${suffix}`];
}

function asString(v: string | boolean | undefined): string | undefined {
  return v === undefined ? undefined : String(v);
}

function asBool(name: string, v: string | boolean | undefined): boolean {
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  try {
    return parseGoBool(v);
  } catch (e) {
    throw new CliExit(ExitCode.BadArgs, `invalid argument ${JSON.stringify(v)} for "--${name}" flag: ${(e as Error).message}`);
  }
}

function asDurationMs(name: string, v: string): number {
  try {
    return parseGoDurationMs(v);
  } catch (e) {
    throw new CliExit(ExitCode.BadArgs, `invalid argument ${JSON.stringify(v)} for "--${name}" flag: ${(e as Error).message}`);
  }
}

export function resolveGlobals(flags: Record<string, unknown>, env: Env): GlobalOptions {
  const endpoints = (asString(raw('endpoints', flags, env)) ?? globalDefaults.endpoints)
    .split(',').map((s) => s.trim()).filter((s) => s !== '');
  return {
    endpoints,
    dialTimeoutMs: asDurationMs('dial-timeout', asString(raw('dial-timeout', flags, env)) ?? globalDefaults['dial-timeout']),
    commandTimeoutMs: asDurationMs('command-timeout', asString(raw('command-timeout', flags, env)) ?? globalDefaults['command-timeout']),
    writeOut: asString(raw('write-out', flags, env)) ?? globalDefaults['write-out'],
    hex: asBool('hex', raw('hex', flags, env)),
    cacert: asString(raw('cacert', flags, env)) || undefined,
    cert: asString(raw('cert', flags, env)) || undefined,
    key: asString(raw('key', flags, env)) || undefined,
    insecureSkipTlsVerify: asBool('insecure-skip-tls-verify', raw('insecure-skip-tls-verify', flags, env)),
    user: asString(raw('user', flags, env)) || undefined,
    password: asString(raw('password', flags, env)) || undefined,
    debug: asBool('debug', raw('debug', flags, env)),
  };
}
