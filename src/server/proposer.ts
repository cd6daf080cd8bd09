/**
 * The `propose(request) → outcome` seam every write passes through, and the shapes around it.
 * `RaftMember` (raft-member.ts) is the one implementation: a single member and a cluster run the
 * same path — the request becomes a log entry, is committed (on a quorum's disks), applied, and
 * only then answered.
 *
 * Vocabulary only: no logic, no I/O.
 */
import type { Event } from '../mvcc/types.js';
import type { ServerOutcome, ServerRequest } from './requests.js';

export interface Proposer {
  propose(write: ServerRequest): Promise<ServerOutcome>;
  /** Resolves once every write committed before the call is applied here (a linearizable read point). */
  readBarrier(): Promise<void>;
  close(): Promise<void>;
}

export type AppliedListener = (events: Event[], revision: bigint) => void;

/** Applies one batch in order in the store (KV writes and lease requests: server/lease-apply.ts). */
export type BatchApply = (requests: ServerRequest[], appliedIndex: bigint) => Promise<{ outcomes: ServerOutcome[]; events: Event[] }>;
