/**
 * The table of every setting `cairn` knows: etcd's flag name (also its ETCD_ and CAIRN_ variables
 * and its config-file key), whether it is a boolean, its default as text, and its help line.
 * A second table lists etcd settings Cairn does not implement, and what it does with each.
 *
 * Owns: names, defaults-as-text and help wording. Must never: parse values (values.ts, urls.ts)
 * or decide how settings combine (build.ts). Defaults come from DEFAULTS so they exist once.
 */
import { DEFAULTS } from './types.js';

export const HELP_GROUPS = [
  'Member', 'Clustering', 'Security', 'Auth', 'Profiling and Monitoring', 'Logging', 'Experimental', 'Other',
] as const;
export type HelpGroup = (typeof HELP_GROUPS)[number];

export interface SettingSpec {
  /** etcd's flag name without dashes: 'heartbeat-interval'. */
  readonly flag: string;
  readonly group: HelpGroup;
  /** Booleans take `--flag` or `--flag=value`, never a separate argument (Go's flag rule). */
  readonly isBool: boolean;
  /** The default as text, parsed like any given value; '' when computed or absent. */
  readonly defaultRaw: string;
  /** The default as help shows it, when it is not defaultRaw. */
  readonly defaultShown?: string;
  readonly help: string;
  /** False for settings that make no sense inside the config file. */
  readonly inFile: boolean;
}

function value(flag: string, group: HelpGroup, defaultRaw: string | number, help: string, defaultShown?: string): SettingSpec {
  return { flag, group, isBool: false, defaultRaw: String(defaultRaw), help, inFile: true, ...(defaultShown === undefined ? {} : { defaultShown }) };
}

function bool(flag: string, group: HelpGroup, defaultValue: boolean, help: string): SettingSpec {
  return { flag, group, isBool: true, defaultRaw: String(defaultValue), help, inFile: true };
}

const D = DEFAULTS;

export const SETTINGS: readonly SettingSpec[] = [
  value('name', 'Member', D.name, 'Human-readable name for this member.'),
  value('data-dir', 'Member', '', 'Path to the data directory.', '${name}.etcd'),
  value('wal-dir', 'Member', '', 'Path to the dedicated wal directory.'),
  value('snapshot-count', 'Member', D.snapshotCount, 'Number of committed transactions to trigger a snapshot to disk.'),
  value('experimental-snapshot-catchup-entries', 'Member', D.snapshotCatchUpEntries, 'Number of entries for a slow follower to catch-up after compacting the raft storage entries.'),
  value('max-snapshots', 'Member', D.maxSnapshots, 'Maximum number of snapshot files to retain (0 is unlimited).'),
  value('max-wals', 'Member', D.maxWals, 'Maximum number of wal files to retain (0 is unlimited).'),
  value('heartbeat-interval', 'Member', D.heartbeatIntervalMs, 'Time (in milliseconds) of a heartbeat interval.'),
  value('election-timeout', 'Member', D.electionTimeoutMs, 'Time (in milliseconds) for an election to timeout; at least 5 x heartbeat-interval, at most 50000.'),
  value('listen-peer-urls', 'Member', D.listenPeerUrls.join(','), 'List of URLs to listen on for peer traffic.'),
  value('listen-client-urls', 'Member', D.listenClientUrls.join(','), 'List of URLs to listen on for client traffic.'),
  value('quota-backend-bytes', 'Member', 0, 'Raise alarms when backend size exceeds the given quota (0 defaults to 2 GiB).'),
  value('max-txn-ops', 'Member', D.maxTxnOps, 'Maximum number of operations permitted in a transaction.'),
  value('max-request-bytes', 'Member', D.maxRequestBytes, 'Maximum client request size in bytes the server will accept.'),
  value('max-concurrent-streams', 'Member', D.maxConcurrentStreams, 'Maximum requests in flight at once on one client connection (pipelined requests and open watch/keep-alive streams); etcd\'s default is unlimited, Cairn\'s is bounded.'),

  value('initial-advertise-peer-urls', 'Clustering', D.initialAdvertisePeerUrls.join(','), "List of this member's peer URLs to advertise to the rest of the cluster."),
  value('initial-cluster', 'Clustering', '', 'Initial cluster configuration for bootstrapping: name=peer-url pairs, comma-separated.', '${name}=<initial-advertise-peer-urls>'),
  value('initial-cluster-state', 'Clustering', D.initialClusterState, "Initial cluster state ('new' or 'existing')."),
  value('initial-cluster-token', 'Clustering', D.initialClusterToken, 'Initial cluster token for the cluster during bootstrap; protects against unintended cross-cluster interaction.'),
  value('advertise-client-urls', 'Clustering', D.advertiseClientUrls.join(','), "List of this member's client URLs to advertise to the public (required when --listen-client-urls is set)."),
  bool('strict-reconfig-check', 'Clustering', D.strictReconfigCheck, 'Reject reconfiguration requests that would cause quorum loss.'),
  value('auto-compaction-retention', 'Clustering', D.autoCompactionRetention, "Auto compaction retention length. 0 means disable auto compaction."),
  value('auto-compaction-mode', 'Clustering', D.autoCompactionMode, "Interpret 'auto-compaction-retention' as 'periodic' (a duration; hours if no unit, e.g. '5m', '1') or 'revision' (a number of revisions)."),
  bool('enable-v2', 'Clustering', false, 'Accepted for etcd compatibility and ignored: Cairn serves only the v3 API.'),

  value('cert-file', 'Security', '', 'Path to the client server TLS cert file.'),
  value('key-file', 'Security', '', 'Path to the client server TLS key file.'),
  bool('client-cert-auth', 'Security', false, 'Enable client cert authentication.'),
  value('client-crl-file', 'Security', '', 'Path to the client certificate revocation list file.'),
  value('client-cert-allowed-hostname', 'Security', '', 'Allowed TLS hostname for client cert authentication.'),
  value('trusted-ca-file', 'Security', '', 'Path to the client server TLS trusted CA cert file.'),
  bool('auto-tls', 'Security', false, 'Client TLS using generated certificates.'),
  value('peer-cert-file', 'Security', '', 'Path to the peer server TLS cert file.'),
  value('peer-key-file', 'Security', '', 'Path to the peer server TLS key file.'),
  bool('peer-client-cert-auth', 'Security', false, 'Enable peer client cert authentication.'),
  value('peer-trusted-ca-file', 'Security', '', 'Path to the peer server TLS trusted CA file.'),
  value('peer-cert-allowed-cn', 'Security', '', 'Required CN for client certs connecting to the peer endpoint (comma-separated list).'),
  value('peer-cert-allowed-hostname', 'Security', '', 'Allowed TLS hostname for inter peer authentication (comma-separated list).'),
  bool('peer-auto-tls', 'Security', false, 'Peer TLS using self-generated certificates if --peer-key-file and --peer-cert-file are not provided.'),
  value('peer-crl-file', 'Security', '', 'Path to the peer certificate revocation list file.'),
  value('cipher-suites', 'Security', '', 'Comma-separated list of supported TLS cipher suites (Go names, as etcd), for clients and peers (empty = platform default).'),
  value('tls-min-version', 'Security', '', "Minimum TLS version: 'TLS1.2' or 'TLS1.3' (empty = platform default)."),
  value('tls-max-version', 'Security', '', "Maximum TLS version: 'TLS1.2' or 'TLS1.3' (empty = platform default)."),

  value('auth-token', 'Auth', 'simple', "Specify a v3 authentication token type and its options ('simple' or 'jwt,pub-key=<file>,priv-key=<file>,sign-method=<alg>[,ttl=<duration>]')."),
  value('bcrypt-cost', 'Auth', D.bcryptCost, 'Specify the cost / strength of the bcrypt algorithm for hashing auth passwords. Valid values are between 4 and 31.'),
  value('auth-token-ttl', 'Auth', D.authTokenTtlSeconds, 'Time (in seconds) of the auth-token-ttl.'),

  bool('enable-pprof', 'Profiling and Monitoring', D.enablePprof, 'Enable runtime profiling data via HTTP server.'),
  value('metrics', 'Profiling and Monitoring', D.metrics, "Set level of detail for exported metrics, specify 'extensive' to include histogram metrics."),
  value('listen-metrics-urls', 'Profiling and Monitoring', '', 'List of URLs to listen on for the metrics and health endpoints.'),

  value('logger', 'Logging', 'zap', "Accepted for etcd compatibility ('zap' or 'capnslog') and ignored: Cairn logs structured JSON through pino."),
  value('log-outputs', 'Logging', D.logOutputs.join(','), "Specify 'stdout' or 'stderr' or file paths, comma-separated ('default' is stderr)."),
  value('log-level', 'Logging', D.logLevel, 'Configures log level. Only supports debug, info, warn, error, panic, or fatal.'),

  bool('experimental-initial-corrupt-check', 'Experimental', D.experimentalInitialCorruptCheck, 'Enable to check data corruption before serving any client/peer traffic.'),

  { ...value('config-file', 'Other', '', 'Path to a YAML configuration file with etcd key names (precedence: flag > CAIRN_* > ETCD_* > file > default).'), inFile: false },
  { ...bool('version', 'Other', false, 'Print the version and exit.'), inFile: false },
  { ...bool('help', 'Other', false, 'Show this help and exit (also -h).'), inFile: false },
];

export const SETTINGS_BY_FLAG: ReadonlyMap<string, SettingSpec> = new Map(SETTINGS.map((spec) => [spec.flag, spec]));

/**
 * etcd settings Cairn does not implement. `ignored`: accepted, no effect, a warning says so.
 * `refused`: an error unless the value is one of `inert` (etcd's default, which asks for
 * nothing), so an etcd config file or EnvironmentFile that merely lists them still works.
 */
export interface CompatSpec {
  readonly flag: string;
  readonly isBool: boolean;
  readonly policy: 'ignored' | 'refused';
  readonly inert: readonly string[];
  readonly why: string;
}

function refused(flag: string, isBool: boolean, inert: readonly string[], why: string): CompatSpec {
  return { flag, isBool, policy: 'refused', inert, why };
}

function ignored(flag: string, isBool: boolean, why: string): CompatSpec {
  return { flag, isBool, policy: 'ignored', inert: [], why };
}

const NO_DISCOVERY = 'Cairn has no discovery service; list the members with --initial-cluster';
const NO_PROXY = "Cairn has no v2 proxy mode";
const NO_GRPC = 'Cairn serves HTTP+JSON, not gRPC';
const FALSE = ['false', '0', 'f', 'F', 'FALSE', 'False'];

export const COMPAT_SETTINGS: readonly CompatSpec[] = [
  refused('discovery', false, [''], NO_DISCOVERY),
  refused('discovery-srv', false, [''], NO_DISCOVERY),
  refused('discovery-srv-name', false, [''], NO_DISCOVERY),
  refused('discovery-proxy', false, [''], NO_DISCOVERY),
  ignored('discovery-fallback', false, NO_DISCOVERY),
  refused('proxy', false, ['off'], NO_PROXY),
  ignored('proxy-failure-wait', false, NO_PROXY),
  ignored('proxy-refresh-interval', false, NO_PROXY),
  ignored('proxy-dial-timeout', false, NO_PROXY),
  ignored('proxy-write-timeout', false, NO_PROXY),
  ignored('proxy-read-timeout', false, NO_PROXY),
  refused('force-new-cluster', true, FALSE, 'Cairn has no unsafe single-member recovery mode'),
  refused('unsafe-no-fsync', true, FALSE, 'Cairn always fsyncs before acknowledging'),
  refused('cors', false, ['', '*'], 'Cairn does not filter CORS origins'),
  refused('host-whitelist', false, ['', '*'], 'Cairn does not filter Host headers'),
  refused('debug', true, FALSE, 'use --log-level=debug'),
  refused('log-package-levels', false, [''], 'use --log-level'),
  refused('experimental-enable-v2v3', false, [''], 'Cairn serves only the v3 API'),
  refused('experimental-peer-skip-client-san-verification', true, FALSE, 'Cairn always verifies peer certificate names'),
  refused('experimental-corrupt-check-time', false, ['0', '0s'], 'Cairn has no periodic corruption check'),
  refused('listen-client-http-urls', false, [''], 'Cairn serves HTTP on --listen-client-urls'),
  ignored('log-output', false, 'etcd 3.3 name; use --log-outputs'),
  ignored('log-format', false, 'Cairn always logs JSON'),
  ignored('pre-vote', true, 'Cairn always runs the pre-vote phase'),
  ignored('initial-election-tick-advance', true, 'Cairn does not fast-forward election ticks at boot'),
  ignored('grpc-keepalive-min-time', false, NO_GRPC),
  ignored('grpc-keepalive-interval', false, NO_GRPC),
  ignored('grpc-keepalive-timeout', false, NO_GRPC),
  ignored('enable-grpc-gateway', true, 'the HTTP+JSON API is always on'),
  ignored('backend-batch-interval', false, 'Cairn commits one LMDB transaction per applied batch'),
  ignored('backend-batch-limit', false, 'Cairn commits one LMDB transaction per applied batch'),
  ignored('self-signed-cert-validity', false, 'not used by Cairn'),
  ignored('experimental-backend-bbolt-freelist-type', false, 'Cairn stores data in LMDB, not bbolt'),
  ignored('experimental-enable-lease-checkpoint', true, 'Cairn always checkpoints lease TTLs'),
  ignored('experimental-compaction-batch-limit', false, 'not used by Cairn'),
  ignored('experimental-watch-progress-notify-interval', false, 'not used by Cairn'),
  ignored('experimental-warning-apply-duration', false, 'not used by Cairn'),
];

export const COMPAT_BY_FLAG: ReadonlyMap<string, CompatSpec> = new Map(COMPAT_SETTINGS.map((spec) => [spec.flag, spec]));

/** Either table's entry for a flag name, for the parsers of argv, environment and file. */
export function isBoolFlag(flag: string): boolean | undefined {
  return SETTINGS_BY_FLAG.get(flag)?.isBool ?? COMPAT_BY_FLAG.get(flag)?.isBool;
}

/** `heartbeat-interval` → `ETCD_HEARTBEAT_INTERVAL` (etcd's rule: uppercase, dashes to underscores). */
export function envName(prefix: 'ETCD_' | 'CAIRN_', flag: string): string {
  return prefix + flag.toUpperCase().replaceAll('-', '_');
}
