/**
 * Membership changes: the ConfChange value carried in a `confChange` log entry, its byte
 * encoding, and the pure rule that turns one ConfState into the next.
 *
 * Owns: the encoding of conf change entry data and the transition rules. Must never: decide
 * when a change may be proposed (the core allows one pending change at a time) or touch
 * progress (the core does that when the host calls applyConfChange).
 *
 * Encoding (version 1): [1][type u8][nodeId u64 big-endian][context bytes...].
 */
import { RaftError } from './errors.js';
import type { ConfState, NodeId } from './types.js';

export type ConfChangeType = 'addNode' | 'addLearner' | 'removeNode' | 'promote';

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  /** Opaque to raft: the host puts the member's URLs or its request id here. */
  readonly context: Uint8Array;
}

const CONF_CHANGE_VERSION = 1;
const HEADER_BYTES = 10;
const TYPE_CODES: readonly ConfChangeType[] = ['addNode', 'addLearner', 'removeNode', 'promote'];
const MAX_NODE_ID = 0xffff_ffff_ffff_ffffn;

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const code = TYPE_CODES.indexOf(cc.type);
  if (code < 0) throw new RaftError('InvalidConfChange', `type ${String(cc.type)}`);
  if (cc.nodeId <= 0n || cc.nodeId > MAX_NODE_ID) throw new RaftError('InvalidConfChange', `node id ${cc.nodeId}`);
  const out = new Uint8Array(HEADER_BYTES + cc.context.length);
  out[0] = CONF_CHANGE_VERSION;
  out[1] = code;
  new DataView(out.buffer).setBigUint64(2, cc.nodeId, false);
  out.set(cc.context, HEADER_BYTES);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.length < HEADER_BYTES || data[0] !== CONF_CHANGE_VERSION || data[1] >= TYPE_CODES.length) {
    throw new RaftError('CorruptData', 'conf change');
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const nodeId = view.getBigUint64(2, false);
  if (nodeId === 0n) throw new RaftError('CorruptData', 'conf change node id 0');
  return { type: TYPE_CODES[data[1]], nodeId, context: data.slice(HEADER_BYTES) };
}

/**
 * Why `cc` cannot apply to `cs`, or null when it can. Committed changes that fail this check
 * are applied as no-ops on every member alike (determinism); the leader refuses them up front.
 */
export function confChangeProblem(cs: ConfState, cc: ConfChange): string | null {
  const isVoter = cs.voters.includes(cc.nodeId);
  const isLearner = cs.learners.includes(cc.nodeId);
  switch (cc.type) {
    case 'addNode': return isVoter ? 'already a voter' : null;
    case 'addLearner': return isVoter ? 'cannot demote a voter to learner' : isLearner ? 'already a learner' : null;
    case 'promote': return isLearner ? null : 'not a learner';
    case 'removeNode':
      if (!isVoter && !isLearner) return 'not a member';
      return isVoter && cs.voters.length === 1 ? 'cannot remove the last voter' : null;
  }
}

/** The configuration after `cc`; unchanged when confChangeProblem() objects. */
export function applyToConfState(cs: ConfState, cc: ConfChange): ConfState {
  if (confChangeProblem(cs, cc) !== null) return cs;
  const id = cc.nodeId;
  const voters = cs.voters.filter((v) => v !== id);
  const learners = cs.learners.filter((v) => v !== id);
  if (cc.type === 'addNode' || cc.type === 'promote') voters.push(id);
  if (cc.type === 'addLearner') learners.push(id);
  const byId = (a: NodeId, b: NodeId): number => (a < b ? -1 : a > b ? 1 : 0);
  return { voters: voters.sort(byId), learners: learners.sort(byId) };
}
