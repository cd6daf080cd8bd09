/**
 * Every bound of the peer transport, in one place, with the reason for each default.
 *
 * Owns: the limit names, their defaults and their validation. Must never: hold state. A limit
 * missing here is a buffer or a wait without a bound, which is a bug.
 *
 * Nothing in the transport depends on a timer firing on time for safety: timeouts and backoff
 * only decide how soon a stalled peer is given up on (liveness). A starved process whose timers
 * fire late simply notices failures later.
 */

export interface TransportLimits {
  /** Batches in flight to one peer, pipelined on one keep-alive connection. etcd's pipeline
   * uses 4 connections per peer for appends; 4 requests in flight cover a loopback or LAN
   * round trip at Cairn's batch sizes while keeping per-peer memory small. */
  readonly maxInflightRequestsPerPeer: number;
  /** Messages waiting for one peer; when full the oldest is dropped and counted (Raft resends
   * what matters). 4096 is etcd's stream buffer size per peer. */
  readonly maxQueuedMessagesPerPeer: number;
  /** Encoded bytes waiting for one peer; same drop-oldest rule. */
  readonly maxQueuedBytesPerPeer: number;
  /** Largest batch body, sent or accepted (HTTP 413 above it). A raft message carries at most
   * `maxSizePerMsg` (1 MiB in etcd) plus one entry of up to --max-request-bytes (1.5 MiB by
   * default), so 16 MiB leaves room for a raised request limit; a message bigger than this is
   * dropped at the sender and logged. In-flight batch memory per peer is at most
   * maxInflightRequestsPerPeer × maxBatchBytes. */
  readonly maxBatchBytes: number;
  /** Time to connect (TCP and TLS) before the attempt counts as a failure. */
  readonly connectTimeoutMs: number;
  /** Time for a batch (or a probe) to be answered; a stopped (SIGSTOP) or partitioned peer
   * fails here, its connection is dropped and onUnreachable fires. */
  readonly requestTimeoutMs: number;
  /** Wait before the first reconnect after a failure; doubles per consecutive failure. */
  readonly backoffInitialMs: number;
  /** Longest wait between reconnect attempts: also the longest a recovered peer waits to hear
   * from us again. Kept near an election timeout so a returning member catches up quickly. */
  readonly backoffMaxMs: number;
  /** Largest data frame inside a snapshot stream (the sender re-chunks to this size). */
  readonly snapshotChunkBytes: number;
  /** A snapshot upload that makes no progress for this long is aborted and reported failed. */
  readonly snapshotIdleTimeoutMs: number;
  /** After the last byte of a snapshot is sent, how long the receiver may take to store it. */
  readonly snapshotResponseTimeoutMs: number;
  /** Largest snapshot data accepted: 8 GiB, etcd's largest recommended backend quota. */
  readonly maxSnapshotBytes: number;
  /** Snapshots this member receives at once; more are answered 503 (the leader retries). */
  readonly maxConcurrentIncomingSnapshots: number;
  /** An idle peer connection is closed by the server after this long. */
  readonly serverIdleTimeoutMs: number;
}

export const DEFAULT_LIMITS: TransportLimits = Object.freeze({
  maxInflightRequestsPerPeer: 4,
  maxQueuedMessagesPerPeer: 4096,
  maxQueuedBytesPerPeer: 64 * 1024 * 1024,
  maxBatchBytes: 16 * 1024 * 1024,
  connectTimeoutMs: 2_000,
  requestTimeoutMs: 5_000,
  backoffInitialMs: 100,
  backoffMaxMs: 2_000,
  snapshotChunkBytes: 1024 * 1024,
  snapshotIdleTimeoutMs: 30_000,
  snapshotResponseTimeoutMs: 120_000,
  maxSnapshotBytes: 8 * 1024 * 1024 * 1024,
  maxConcurrentIncomingSnapshots: 2,
  serverIdleTimeoutMs: 60_000,
});

/** Defaults overlaid with `overrides`; throws a RangeError naming the first bad limit. */
export function resolveLimits(overrides: Partial<TransportLimits> = {}): TransportLimits {
  const limits: TransportLimits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`transport limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  if (limits.backoffMaxMs < limits.backoffInitialMs) {
    throw new RangeError('transport limit backoffMaxMs must be at least backoffInitialMs');
  }
  if (limits.maxQueuedBytesPerPeer < limits.maxBatchBytes) {
    throw new RangeError('transport limit maxQueuedBytesPerPeer must be at least maxBatchBytes');
  }
  return Object.freeze(limits);
}
