/**
 * Turns the merged raw settings (each the winner of flag > CAIRN_* > ETCD_* > file > default)
 * into the typed Config, then checks what no single setting can check alone: election timeout
 * against heartbeat, advertised URLs against --initial-cluster, HTTPS URLs against certificates.
 *
 * Owns: the meaning of every setting and the cross-setting rules etcd enforces at start.
 * Must never: read files, the environment or argv (sources.ts does), or print.
 */
import { ConfigError, defaultOrigin, fromClause, invalidValue, withValue, type Origin } from './config-error.js';
import { COMPAT_BY_FLAG, SETTINGS_BY_FLAG } from './settings.js';
import type { RawSettings } from './sources.js';
import { parseAuthToken, parseCipherSuites, parseTlsVersion } from './tls-options.js';
import {
  DEFAULT_QUOTA_BACKEND_BYTES, LOG_LEVELS, MAX_ELECTION_TIMEOUT_MS, MAX_RECOMMENDED_QUOTA_BACKEND_BYTES,
  MIN_ELECTION_TO_HEARTBEAT_RATIO, type Config, type TlsConfig,
} from './types.js';
import { clusterText, parseInitialCluster, parseUrlList, sameUrlSet, urlText } from './urls.js';
import {
  list, parseBigUint, parseBool, parseEnum, parseGoDurationMs, parseInteger, parseNonEmpty, scalar, type RawEntry,
} from './values.js';

/** etcd warns above this: larger requests stall raft replication for everyone. */
const MAX_RECOMMENDED_REQUEST_BYTES = 10 * 1024 * 1024;
/** A quota beyond this is not a byte count anyone means (and stops being exact in a double). */
const MAX_QUOTA_BACKEND_BYTES = 2 ** 50;

/** Read access to the merged settings, with each setting's default standing in when unset. */
export class Resolved {
  constructor(private readonly merged: RawSettings, readonly warnings: string[]) {}

  entry(flag: string): RawEntry {
    const given = this.merged.get(flag);
    if (given !== undefined) return given;
    const spec = SETTINGS_BY_FLAG.get(flag);
    if (spec === undefined) throw new Error(`config: no such setting ${flag}`);
    return { value: spec.defaultRaw, origin: defaultOrigin(flag) };
  }

  given(flag: string): boolean {
    return this.merged.has(flag);
  }

  origin(flag: string): Origin {
    return this.entry(flag).origin;
  }

  /** ` (from X)` when the value did not come from the flag itself. */
  from(flag: string): string {
    return fromClause(flag, this.origin(flag));
  }

  /** '' means "not set" for optional paths and names. */
  optional(flag: string): string | null {
    const text = scalar(this.entry(flag)).trim();
    return text === '' ? null : text;
  }

  /** Every given setting and where it came from, for Config.origins. */
  origins(): Record<string, string> {
    return Object.fromEntries([...this.merged].map(([flag, entry]) => [flag, entry.origin.label]));
  }
}

export function buildConfig(r: Resolved, configFile: string | null): Config {
  applyCompatPolicies(r);
  const member = buildMember(r);
  const clustering = buildClustering(r, member.name);
  const security = buildSecurity(r);
  const config: Config = {
    ...member, ...clustering, ...security, ...buildAuth(r), ...buildObservability(r),
    configFile,
    origins: r.origins(),
  };
  checkTimeouts(r, config);
  checkAdvertiseGiven(r);
  checkInitialCluster(r, config);
  checkTlsAgainstUrls(r, config);
  return config;
}

/** Refused etcd settings are errors unless inert; ignored ones get a warning. */
function applyCompatPolicies(r: Resolved): void {
  for (const compat of COMPAT_BY_FLAG.values()) {
    const entry = r.given(compat.flag) ? r.entry(compat.flag) : undefined;
    if (entry === undefined) continue;
    const text = typeof entry.value === 'string' ? entry.value.trim() : entry.value.join(',');
    const shownValue = text === '' && compat.isBool ? 'true' : text;
    if (compat.policy === 'ignored') {
      r.warnings.push(`${withValue(entry.origin, shownValue)} is accepted for etcd compatibility and ignored: ${compat.why}`);
    } else if (!compat.inert.includes(text)) {
      throw new ConfigError(`${withValue(entry.origin, shownValue)} is not supported by Cairn: ${compat.why}`);
    }
  }
}

function buildMember(r: Resolved) {
  const name = parseNonEmpty(r.entry('name'), 'a member name');
  const quotaGiven = parseInteger(r.entry('quota-backend-bytes'), { min: 0, max: MAX_QUOTA_BACKEND_BYTES, unit: 'bytes, 0 = 2 GiB' });
  const quotaBackendBytes = quotaGiven === 0 ? DEFAULT_QUOTA_BACKEND_BYTES : quotaGiven;
  if (quotaBackendBytes > MAX_RECOMMENDED_QUOTA_BACKEND_BYTES) {
    r.warnings.push(`${withValue(r.origin('quota-backend-bytes'), String(quotaBackendBytes))} exceeds the maximum recommended quota of 8 GiB`);
  }
  const maxRequestBytes = parseInteger(r.entry('max-request-bytes'), { min: 1, max: 2 ** 31 - 1, unit: 'bytes' });
  if (maxRequestBytes > MAX_RECOMMENDED_REQUEST_BYTES) {
    r.warnings.push(`${withValue(r.origin('max-request-bytes'), String(maxRequestBytes))} exceeds the maximum recommended request size of 10 MiB`);
  }
  return {
    name,
    dataDir: r.optional('data-dir') ?? `${name}.etcd`,
    walDir: r.optional('wal-dir'),
    snapshotCount: parseInteger(r.entry('snapshot-count'), { min: 1, unit: 'committed transactions' }),
    snapshotCatchUpEntries: parseInteger(r.entry('experimental-snapshot-catchup-entries'), { min: 1, unit: 'entries' }),
    maxSnapshots: parseInteger(r.entry('max-snapshots'), { min: 0, unit: 'files, 0 = unlimited' }),
    maxWals: parseInteger(r.entry('max-wals'), { min: 0, unit: 'files, 0 = unlimited' }),
    heartbeatIntervalMs: parseInteger(r.entry('heartbeat-interval'), { min: 1, unit: 'milliseconds' }),
    electionTimeoutMs: parseInteger(r.entry('election-timeout'), { min: 1, unit: 'milliseconds' }),
    listenPeerUrls: parseUrlList(r.entry('listen-peer-urls'), 'listen', false),
    listenClientUrls: parseUrlList(r.entry('listen-client-urls'), 'listen', false),
    quotaBackendBytes,
    maxRequestBytes,
    maxTxnOps: parseInteger(r.entry('max-txn-ops'), { min: 1, unit: 'operations' }),
    maxConcurrentStreams: parseInteger(r.entry('max-concurrent-streams'), { min: 1, max: 2 ** 32 - 1, unit: 'requests per connection' }),
  };
}

function buildClustering(r: Resolved, name: string) {
  const initialAdvertisePeerUrls = parseUrlList(r.entry('initial-advertise-peer-urls'), 'advertise', false);
  const clusterEntry: RawEntry = r.given('initial-cluster')
    ? r.entry('initial-cluster')
    : { value: initialAdvertisePeerUrls.map((url) => `${name}=${urlText(url)}`).join(','), origin: defaultOrigin('initial-cluster') };
  if (parseBool(r.entry('enable-v2'))) {
    r.warnings.push(`${r.origin('enable-v2').label} is ignored: Cairn serves only the v3 API`);
  }
  return {
    initialAdvertisePeerUrls,
    advertiseClientUrls: parseUrlList(r.entry('advertise-client-urls'), 'advertise', false),
    initialCluster: parseInitialCluster(clusterEntry),
    initialClusterState: parseEnum(r.entry('initial-cluster-state'), ['new', 'existing'] as const),
    initialClusterToken: parseNonEmpty(r.entry('initial-cluster-token'), 'a cluster token'),
    strictReconfigCheck: parseBool(r.entry('strict-reconfig-check')),
    ...buildCompaction(r),
  };
}

function buildCompaction(r: Resolved) {
  const autoCompactionMode = parseEnum(r.entry('auto-compaction-mode'), ['periodic', 'revision'] as const);
  const entry = r.entry('auto-compaction-retention');
  const text = scalar(entry).trim();
  if (autoCompactionMode === 'revision') {
    const revisions = parseBigUint(entry, 'revisions to keep, 0 = off');
    return { autoCompactionMode, autoCompactionRetention: text, autoCompactionPeriodMs: 0, autoCompactionRevisions: revisions };
  }
  // etcd: a bare number is hours; otherwise a Go duration such as 30m or 1h30m.
  const periodMs = /^\d+$/.test(text) ? Number(text) * 3_600_000 : parseGoDurationMs(text);
  if (periodMs === null || !Number.isSafeInteger(Math.round(periodMs))) {
    throw invalidValue(text, entry.origin, "expected hours (e.g. '1') or a duration (e.g. '30m', '1h30m') for periodic compaction");
  }
  return { autoCompactionMode, autoCompactionRetention: text, autoCompactionPeriodMs: Math.round(periodMs), autoCompactionRevisions: 0n };
}

function buildTls(r: Resolved, side: 'client' | 'peer'): TlsConfig {
  const peer = side === 'peer';
  const flag = (clientName: string, peerName: string): string => (peer ? peerName : clientName);
  const certFile = r.optional(flag('cert-file', 'peer-cert-file'));
  const keyFile = r.optional(flag('key-file', 'peer-key-file'));
  if ((certFile === null) !== (keyFile === null)) {
    const missing = certFile === null ? flag('cert-file', 'peer-cert-file') : flag('key-file', 'peer-key-file');
    const present = certFile === null ? flag('key-file', 'peer-key-file') : flag('cert-file', 'peer-cert-file');
    throw new ConfigError(`${r.origin(present).label} is given but --${missing} is not: a TLS certificate needs both`);
  }
  const allowedCn = peer ? list(r.entry('peer-cert-allowed-cn')) : [];
  const allowedHostname = list(r.entry(flag('client-cert-allowed-hostname', 'peer-cert-allowed-hostname')));
  if (allowedCn.length > 0 && allowedHostname.length > 0) {
    throw new ConfigError(`${r.origin('peer-cert-allowed-cn').label} and ${r.origin('peer-cert-allowed-hostname').label} cannot both be set: choose one way to check peer certificates`);
  }
  return {
    certFile,
    keyFile,
    trustedCaFile: r.optional(flag('trusted-ca-file', 'peer-trusted-ca-file')),
    clientCertAuth: parseBool(r.entry(flag('client-cert-auth', 'peer-client-cert-auth'))),
    autoTls: parseBool(r.entry(flag('auto-tls', 'peer-auto-tls'))),
    crlFile: r.optional(flag('client-crl-file', 'peer-crl-file')),
    allowedCn,
    allowedHostname,
  };
}

function buildSecurity(r: Resolved) {
  const tlsMinVersion = parseTlsVersion(r.entry('tls-min-version'));
  const tlsMaxVersion = parseTlsVersion(r.entry('tls-max-version'));
  if (tlsMinVersion === 'TLSv1.3' && tlsMaxVersion === 'TLSv1.2') {
    throw new ConfigError(`${r.origin('tls-min-version').label} (TLS1.3) is above ${r.origin('tls-max-version').label} (TLS1.2)`);
  }
  return {
    clientTls: buildTls(r, 'client'),
    peerTls: buildTls(r, 'peer'),
    ...parseCipherSuites(r.entry('cipher-suites')),
    tlsMinVersion,
    tlsMaxVersion,
  };
}

function buildAuth(r: Resolved) {
  return {
    authToken: parseAuthToken(r.entry('auth-token')),
    bcryptCost: parseInteger(r.entry('bcrypt-cost'), { min: 4, max: 31, unit: 'bcrypt cost' }),
    authTokenTtlSeconds: parseInteger(r.entry('auth-token-ttl'), { min: 1, unit: 'seconds' }),
  };
}

function buildObservability(r: Resolved) {
  parseEnum(r.entry('logger'), ['zap', 'capnslog'] as const);
  const logOutputs = list(r.entry('log-outputs'));
  return {
    enablePprof: parseBool(r.entry('enable-pprof')),
    metrics: parseEnum(r.entry('metrics'), ['basic', 'extensive'] as const),
    listenMetricsUrls: parseUrlList(r.entry('listen-metrics-urls'), 'listen', true),
    logLevel: parseEnum(r.entry('log-level'), LOG_LEVELS),
    logOutputs: logOutputs.length === 0 ? ['default'] : logOutputs,
    experimentalInitialCorruptCheck: parseBool(r.entry('experimental-initial-corrupt-check')),
  };
}

/** etcd's rules, with its wording, plus where each value came from. */
function checkTimeouts(r: Resolved, config: Config): void {
  const election = `--election-timeout[${config.electionTimeoutMs}ms]${r.from('election-timeout')}`;
  const heartbeat = `--heartbeat-interval[${config.heartbeatIntervalMs}ms]${r.from('heartbeat-interval')}`;
  if (config.electionTimeoutMs < MIN_ELECTION_TO_HEARTBEAT_RATIO * config.heartbeatIntervalMs) {
    throw new ConfigError(`${election} should be at least as ${MIN_ELECTION_TO_HEARTBEAT_RATIO} times as ${heartbeat}`);
  }
  if (config.electionTimeoutMs > MAX_ELECTION_TIMEOUT_MS) {
    throw new ConfigError(`${election} is too long, and should be set less than ${MAX_ELECTION_TIMEOUT_MS}ms`);
  }
}

/** Clients learn members' URLs from what they advertise; the default localhost is wrong once listening elsewhere. */
function checkAdvertiseGiven(r: Resolved): void {
  if (r.given('listen-client-urls') && !r.given('advertise-client-urls')) {
    throw new ConfigError(`--advertise-client-urls is required when --listen-client-urls${r.from('listen-client-urls')} is set explicitly`);
  }
}

/** This member must be in the list, under the URLs it advertises (etcd checks both, for new and existing). */
function checkInitialCluster(r: Resolved, config: Config): void {
  const self = config.initialCluster.find((member) => member.name === config.name);
  if (self === undefined) {
    const listed = JSON.stringify(clusterText(config.initialCluster));
    throw new ConfigError(`couldn't find local name "${config.name}"${r.from('name')} in --initial-cluster${r.from('initial-cluster')} ${listed}`);
  }
  if (!sameUrlSet(self.peerUrls, config.initialAdvertisePeerUrls)) {
    const listed = self.peerUrls.map(urlText).join(',');
    const advertised = config.initialAdvertisePeerUrls.map(urlText).join(',');
    throw new ConfigError(
      `--initial-cluster${r.from('initial-cluster')} has ${config.name}=${listed} but missing from --initial-advertise-peer-urls=${advertised}${r.from('initial-advertise-peer-urls')}`,
    );
  }
}

/** An https URL without a certificate (or auto-tls) cannot serve; a certificate on plain http is a likely mistake. */
function checkTlsAgainstUrls(r: Resolved, config: Config): void {
  const sides = [
    { tls: config.clientTls, urls: config.listenClientUrls, urlFlag: 'listen-client-urls', certFlags: '--cert-file and --key-file (or --auto-tls)' },
    { tls: config.peerTls, urls: config.listenPeerUrls, urlFlag: 'listen-peer-urls', certFlags: '--peer-cert-file and --peer-key-file (or --peer-auto-tls)' },
  ];
  for (const side of sides) {
    const hasCert = side.tls.certFile !== null || side.tls.autoTls;
    const httpsUrl = side.urls.find((url) => url.protocol === 'https:');
    if (httpsUrl !== undefined && !hasCert) {
      throw new ConfigError(`${urlText(httpsUrl)} in ${r.origin(side.urlFlag).label} uses https, so ${side.certFlags} must be given`);
    }
    if (httpsUrl === undefined && side.tls.certFile !== null) {
      r.warnings.push(`${side.certFlags.split(' (')[0]} are given but every URL in ${r.origin(side.urlFlag).label} is http: the certificate is not used there`);
    }
  }
}
