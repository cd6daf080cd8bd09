/**
 * Errors of the Raft core, as values with a kind. The core must import nothing of ours, so it
 * cannot use CairnError; the host maps these kinds (see the table in index.ts): a dropped
 * proposal or read becomes a retry or etcd's "no leader", the storage kinds never reach clients.
 *
 * Owns: the RaftError class and its kinds. Must never: build client-facing messages.
 */

export const RAFT_ERROR_MESSAGES = {
  /** No leader is known, a leader transfer is in progress, this node was removed, or a bound
   * (uncommitted bytes, outbox) is full: retry later, possibly against another member. */
  ProposalDropped: 'raft: proposal dropped',
  /** A read request could not be forwarded or queued (no leader, or too many pending). */
  ReadIndexDropped: 'raft: read index request dropped',
  /** The previous configuration change has not been applied yet: one change at a time. */
  ConfChangePending: 'raft: a configuration change is already pending',
  /** A configuration change that makes no sense against the current configuration. */
  InvalidConfChange: 'raft: invalid configuration change',
  /** Storage: the requested index is behind the last snapshot. */
  Compacted: 'raft: requested index is unavailable due to compaction',
  /** Storage: the requested index is beyond the last stored entry. */
  Unavailable: 'raft: requested entry at index is unavailable',
  /** Storage: a snapshot older than the one already installed. */
  SnapOutOfDate: 'raft: requested index is older than the existing snapshot',
  /** Storage: a snapshot is being produced; the leader retries later. */
  SnapshotTemporarilyUnavailable: 'raft: snapshot is temporarily unavailable',
  /** A local-only message type arrived from the network. */
  StepLocalMsg: 'raft: cannot step raft local message',
  /** A response from a node that is not in the configuration. */
  StepPeerNotFound: 'raft: cannot step as peer not found',
  /** The host broke the ready/advance contract (for example ready() twice without advance()). */
  ReadyContract: 'raft: ready/advance called out of order',
  /** A value from outside (config, message, storage) is out of range. */
  InvalidArgument: 'raft: invalid argument',
  /** Bytes given to a decoder are not a valid encoding. */
  CorruptData: 'raft: corrupt encoded data',
} as const;

export type RaftErrorKind = keyof typeof RAFT_ERROR_MESSAGES;

export class RaftError extends Error {
  readonly kind: RaftErrorKind;

  constructor(kind: RaftErrorKind, detail?: string) {
    super(detail === undefined ? RAFT_ERROR_MESSAGES[kind] : `${RAFT_ERROR_MESSAGES[kind]}: ${detail}`);
    this.name = 'RaftError';
    this.kind = kind;
  }
}

export function isRaftError(e: unknown, kind?: RaftErrorKind): e is RaftError {
  return e instanceof RaftError && (kind === undefined || e.kind === kind);
}

/** Throws InvalidArgument unless `n` is a safe non-negative integer (terms, indexes). */
export function assertIndex(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RaftError('InvalidArgument', `${what} = ${n}`);
}
