/**
 * Cairn's Raft core — the public face of src/raft.
 *
 * A pure, single-threaded, deterministic state machine modelled on etcd-io/raft's RawNode:
 * no I/O, no timers, no clock, no Math.random, no `await`, no `node:` imports. Time is
 * `tick()`; input is `step(message)` and the propose/readIndex/... calls; output is `ready()`.
 * It imports nothing else of Cairn's (the host maps RaftError kinds to CairnError).
 *
 * THE HOST LOOP (src/server drives exactly one RawNode per member):
 *
 *   every tick interval:      node.tick()
 *   message from a peer:      node.step(decodeMessage(bytes))
 *   client write:             node.propose(data)            // throws RaftError: retry/NoLeader
 *   linearizable read:        node.readIndex(requestId)     // answer arrives in readStates
 *   loop:
 *     if (!node.hasReady()) wait for the next input
 *     const rd = node.ready()
 *     1. if rd.snapshot: install it in storage (and restore the state machine from it)
 *     2. if rd.hardState: persist it; append rd.entries to storage (truncating any stored
 *        tail from rd.entries[0].index); fsync if rd.mustSync
 *     3. send rd.messages (only now: they may promise what steps 1-2 made durable);
 *        report failures with node.reportUnreachable(id), snapshot sends with
 *        node.reportSnapshot(id, ok)
 *     4. apply rd.committedEntries in order; for a 'confChange' entry call
 *        node.applyConfChange(decodeConfChange(e.data)) and store the returned ConfState with
 *        the applied index; serve reads whose readStates index ≤ applied index
 *     5. node.advance()
 *
 *   Steps 1-2 must complete before 3; 4 may overlap 3. Between ready() and advance() the host
 *   may keep calling tick/step/propose (what they produce waits for the next Ready), but must
 *   not call ready() again. The leader counts its own copy of an entry only after advance()
 *   confirmed it durable, so "committed" always means "on a quorum's disks".
 *
 * OWNERSHIP: every array in a Ready belongs to the host; entries, snapshots and byte arrays
 * inside them are shared and immutable — nobody writes to them. Storage returns arrays the
 * core may keep (it puts them in messages), so storage must not mutate them either.
 *
 * RESTART: construct a RawNode over the same storage with `applied` = the host's applied
 * index; storage.initialState() returns the persisted hard state and the configuration as of
 * that applied index. Everything a Ready hands out (snapshot, hard state, entries) is all the
 * persisted state a restart needs.
 *
 * BOOTSTRAP: a new cluster's members start from storage holding the same conf change entries
 * (see bootstrapEntries), committed by a HardState at term 1; a member joining an existing
 * cluster starts from empty storage and learns everything from the leader.
 *
 * ERRORS (RaftError kind → what the host does):
 *   ProposalDropped, ReadIndexDropped → retry after a short wait, or CairnError('NoLeader')
 *   ConfChangePending → retry later; InvalidConfChange → CairnError('MemberNotFound') or
 *   similar per the request; Compacted/Unavailable/SnapOutOfDate → storage contract (bugs);
 *   StepLocalMsg/InvalidArgument/CorruptData → drop the peer message and log it.
 *
 * Terms and indexes are numbers (safe integers, see types.ts); member IDs are bigint.
 */
export * from './types.js';
export { RaftError, isRaftError, RAFT_ERROR_MESSAGES, type RaftErrorKind } from './errors.js';
export { type Storage, type InitialState, MemoryStorage, limitSize } from './storage.js';
export {
  type ConfChange, type ConfChangeType, encodeConfChange, decodeConfChange, applyToConfState,
  confChangeProblem,
} from './confchange.js';
export {
  encodeMessage, decodeMessage, encodeEntry, decodeEntry, encodeHardState, decodeHardState,
  encodeSnapshot, decodeSnapshot,
} from './codec.js';
export { type RaftConfig, type Status, type PeerStatus, DEFAULTS, CAMPAIGN_TRANSFER } from './raft.js';
export { RawNode } from './rawnode.js';
export { seededRandom } from './random.js';
export { bootstrapEntries, bootstrapHardState } from './bootstrap.js';
