/**
 * Bootstrapping a brand-new cluster: the log every founding member starts with.
 *
 * Owns: the founding entries (one addNode conf change per founding voter, at term 1, indexes
 * 1..n) and the hard state that marks them committed. Every founding member must get the same
 * list in the same order, so that their logs agree from index 1; a member added later gets
 * these entries from the leader and so learns the founding configuration too.
 * Must never: be used to restart an existing member (its storage already has a log).
 */
import { encodeConfChange } from './confchange.js';
import { RaftError } from './errors.js';
import { EMPTY_BYTES, NONE, type Entry, type HardState, type NodeId } from './types.js';

export function bootstrapEntries(voters: readonly NodeId[]): Entry[] {
  if (voters.length === 0) throw new RaftError('InvalidArgument', 'bootstrap needs at least one voter');
  if (new Set(voters).size !== voters.length) throw new RaftError('InvalidArgument', 'duplicate voter ids');
  return voters.map((nodeId, i) => ({
    term: 1,
    index: i + 1,
    type: 'confChange' as const,
    data: encodeConfChange({ type: 'addNode', nodeId, context: EMPTY_BYTES }),
  }));
}

/** Term 1, no vote, every founding entry committed: the host applies them on the first Ready,
 * which builds the configuration (no member campaigns before that). */
export function bootstrapHardState(voterCount: number): HardState {
  return { term: 1, vote: NONE, commit: voterCount };
}
