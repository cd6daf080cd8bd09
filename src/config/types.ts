/**
 * The typed, validated configuration of one `cairn` member, and its defaults.
 *
 * Owns: the shape every other part reads (names carry units) and the default of every setting
 * (etcd 3.4's, except snapshot-count, which follows etcd 3.5). Must never: parse or validate
 * anything (load.ts and build.ts do), or hold values that are not plain data.
 */
import type { ClusterMember } from './urls.js';

export type { ClusterMember } from './urls.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'panic', 'fatal'] as const;
/** etcd's levels; pino has no `panic`: treat it as `fatal`. */
export type LogLevel = (typeof LOG_LEVELS)[number];

export const JWT_SIGN_METHODS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'EdDSA',
] as const;
export type JwtSignMethod = (typeof JWT_SIGN_METHODS)[number];

/** --auth-token: `simple`, or `jwt,pub-key=...,priv-key=...,sign-method=...,ttl=...`. */
export type AuthTokenConfig =
  | { readonly kind: 'simple' }
  | {
      readonly kind: 'jwt';
      readonly signMethod: JwtSignMethod;
      /** Verifies tokens (asymmetric methods). */
      readonly pubKeyFile: string | null;
      /** Signs tokens; for HS* methods it is the shared secret, as in etcd. */
      readonly privKeyFile: string | null;
      /** Lifetime of an issued token (etcd's `ttl=` option, default 5m). */
      readonly ttlMs: number;
    };

/** One side's TLS: the client side (--cert-file ...) or the peer side (--peer-cert-file ...). */
export interface TlsConfig {
  readonly certFile: string | null;
  readonly keyFile: string | null;
  readonly trustedCaFile: string | null;
  /** Require and verify a client certificate signed by trustedCaFile. */
  readonly clientCertAuth: boolean;
  /** Generate a self-signed certificate when certFile/keyFile are not given. */
  readonly autoTls: boolean;
  readonly crlFile: string | null;
  /** Accepted certificate common names; empty = any (peer side only in etcd 3.4). */
  readonly allowedCn: readonly string[];
  /** Accepted certificate host names; empty = any. */
  readonly allowedHostname: readonly string[];
}

export type ClusterState = 'new' | 'existing';
export type CompactionMode = 'periodic' | 'revision';
export type MetricsLevel = 'basic' | 'extensive';
export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface Config {
  // --- member
  readonly name: string;
  /** As given (relative paths are relative to the working directory); default `${name}.etcd`. */
  readonly dataDir: string;
  /** A dedicated WAL directory, or null for the default place inside dataDir. */
  readonly walDir: string | null;
  /** Applied entries between two raft snapshots. */
  readonly snapshotCount: number;
  /** Log entries kept behind a raft snapshot so a slow follower catches up from the log (etcd 3.5's flag). */
  readonly snapshotCatchUpEntries: number;
  /** Snapshot files kept; 0 = unlimited. */
  readonly maxSnapshots: number;
  /** WAL files kept; 0 = unlimited. */
  readonly maxWals: number;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  readonly listenPeerUrls: readonly URL[];
  readonly listenClientUrls: readonly URL[];
  /** Effective quota: etcd's 0 ("default") is already turned into 2 GiB here. */
  readonly quotaBackendBytes: number;
  readonly maxRequestBytes: number;
  readonly maxTxnOps: number;
  /** Requests in flight on one client connection (etcd's --max-concurrent-streams). */
  readonly maxConcurrentStreams: number;

  // --- clustering
  readonly initialAdvertisePeerUrls: readonly URL[];
  readonly advertiseClientUrls: readonly URL[];
  readonly initialCluster: readonly ClusterMember[];
  readonly initialClusterState: ClusterState;
  readonly initialClusterToken: string;
  readonly strictReconfigCheck: boolean;
  readonly autoCompactionMode: CompactionMode;
  /** As given, for logs; the parsed value is in one of the two fields below. */
  readonly autoCompactionRetention: string;
  /** periodic mode: keep this much history; 0 = auto compaction off. */
  readonly autoCompactionPeriodMs: number;
  /** revision mode: keep this many revisions; 0n = auto compaction off. */
  readonly autoCompactionRevisions: bigint;

  // --- security
  readonly clientTls: TlsConfig;
  readonly peerTls: TlsConfig;
  /** etcd's (Go's) cipher suite names, as given; empty = the platform's defaults. */
  readonly cipherSuites: readonly string[];
  /** The same suites as an OpenSSL cipher list for Node's `tls` `ciphers` option; null = default. */
  readonly opensslCiphers: string | null;
  readonly tlsMinVersion: TlsVersion | null;
  readonly tlsMaxVersion: TlsVersion | null;

  // --- auth
  readonly authToken: AuthTokenConfig;
  readonly bcryptCost: number;
  /** Lifetime of an idle `simple` token. */
  readonly authTokenTtlSeconds: number;

  // --- monitoring and logging
  readonly enablePprof: boolean;
  readonly metrics: MetricsLevel;
  /** Extra listeners serving only /metrics and /health; empty = none. */
  readonly listenMetricsUrls: readonly URL[];
  readonly logLevel: LogLevel;
  /** 'default' | 'stderr' | 'stdout' | a file path, as etcd. */
  readonly logOutputs: readonly string[];
  readonly experimentalInitialCorruptCheck: boolean;

  /** The YAML file that was read, if any. */
  readonly configFile: string | null;
  /** For the start-up log: setting (flag name) → where its value came from, for every non-default. */
  readonly origins: Readonly<Record<string, string>>;
}

/** 2 GiB: what etcd means by `--quota-backend-bytes 0`. */
export const DEFAULT_QUOTA_BACKEND_BYTES = 2 * 1024 * 1024 * 1024;
/** etcd warns above 8 GiB: larger databases make snapshots and restarts slow. */
export const MAX_RECOMMENDED_QUOTA_BACKEND_BYTES = 8 * 1024 * 1024 * 1024;
/** etcd's limit: a longer election timeout makes failover unreasonably slow. */
export const MAX_ELECTION_TIMEOUT_MS = 50_000;
/** etcd's rule: an election timeout under 5 heartbeats causes spurious elections. */
export const MIN_ELECTION_TO_HEARTBEAT_RATIO = 5;

/**
 * Default values, with Config's field names. Fields whose default depends on others are not here:
 * dataDir (`${name}.etcd`) and initialCluster (`${name}=` each initial advertise peer URL).
 */
export const DEFAULTS = Object.freeze({
  name: 'default',
  walDir: null,
  snapshotCount: 10_000,
  snapshotCatchUpEntries: 5_000,
  maxSnapshots: 5,
  maxWals: 5,
  heartbeatIntervalMs: 100,
  electionTimeoutMs: 1000,
  listenPeerUrls: Object.freeze(['http://localhost:2380']),
  listenClientUrls: Object.freeze(['http://localhost:2379']),
  quotaBackendBytes: DEFAULT_QUOTA_BACKEND_BYTES,
  maxRequestBytes: 1_572_864,
  maxTxnOps: 128,
  maxConcurrentStreams: 128,
  initialAdvertisePeerUrls: Object.freeze(['http://localhost:2380']),
  advertiseClientUrls: Object.freeze(['http://localhost:2379']),
  initialClusterState: 'new',
  initialClusterToken: 'etcd-cluster',
  strictReconfigCheck: true,
  autoCompactionMode: 'periodic',
  autoCompactionRetention: '0',
  bcryptCost: 10,
  authTokenTtlSeconds: 300,
  jwtTtlMs: 300_000,
  enablePprof: false,
  metrics: 'basic',
  logLevel: 'info',
  logOutputs: Object.freeze(['default']),
  experimentalInitialCorruptCheck: false,
} as const);
