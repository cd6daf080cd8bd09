/**
 * Membership: learners, promotion, removal (the leader's own too), one change at a time, and
 * the conf change encoding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, MessageType as MT, enc } from './harness.js';
import {
  applyToConfState, decodeConfChange, encodeConfChange, isRaftError, type ConfChange, type NodeId,
} from '../../src/raft/index.js';

const none = new Uint8Array(0);
const cc = (type: ConfChange['type'], nodeId: NodeId): ConfChange => ({ type, nodeId, context: none });

function change(c: Cluster, at: NodeId, change: ConfChange): void {
  c.get(at).node.proposeConfChange(change);
  c.stabilize();
}

test('a learner joins from an empty log, catches up, and never counts towards a quorum', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], bootstrap: 'log' });
  c.campaign(1n);
  c.propose(1n, 'a');
  c.addEmptyNode(4n);
  change(c, 1n, cc('addLearner', 4n));
  c.propose(1n, 'b');
  c.tickAll(3);
  assert.deepEqual(c.get(4n).appliedData(), ['a', 'b']);
  assert.deepEqual(c.get(4n).confState, { voters: [1n, 2n, 3n], learners: [4n] });
  // With two voters down, the leader plus the learner cannot commit.
  c.crash(2n);
  c.crash(3n);
  const before = c.get(1n).commit;
  c.get(1n).node.propose(enc('c'));
  c.stabilize();
  assert.equal(c.get(1n).commit, before, 'a learner\'s ack is not a vote');
  assert.ok(c.get(4n).node.raft.log.lastIndex() > before, 'but the learner did receive the entry');
});

test('a promoted learner becomes a voter and counts', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], bootstrap: 'log', checkQuorum: false });
  c.campaign(1n);
  c.addEmptyNode(4n);
  change(c, 1n, cc('addLearner', 4n));
  c.tickAll(2);
  change(c, 1n, cc('promote', 4n));
  assert.deepEqual(c.get(4n).confState, { voters: [1n, 2n, 3n, 4n], learners: [] });
  // Four voters: quorum 3. With node 2 down, 1 + 3 + 4 commit.
  c.crash(2n);
  c.propose(1n, 'x');
  assert.deepEqual(c.get(4n).appliedData(), ['x']);
  // The new voter can lead (2, 3 and 4 are a quorum of four).
  c.restart(2n);
  c.crash(1n);
  c.campaign(4n);
  assert.equal(c.get(4n).state, 'leader');
});

test('one change at a time: a second change waits until the first is applied', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], bootstrap: 'log' });
  c.campaign(1n);
  c.addEmptyNode(4n);
  c.addEmptyNode(5n);
  c.get(1n).node.proposeConfChange(cc('addLearner', 4n));
  assert.throws(() => c.get(1n).node.proposeConfChange(cc('addLearner', 5n)), (e) => isRaftError(e, 'ConfChangePending'));
  c.stabilize();
  c.get(1n).node.proposeConfChange(cc('addLearner', 5n)); // applied now: allowed
  c.stabilize();
  assert.deepEqual(c.get(1n).confState.learners, [4n, 5n]);
});

test('a new leader accepts no conf change until its first entry of the term is applied', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], bootstrap: 'log', checkQuorum: false });
  c.campaign(1n);
  c.filter = (m) => !(m.from === 2n && m.type === MT.App);
  c.campaign(2n);
  assert.equal(c.get(2n).state, 'leader');
  assert.throws(() => c.get(2n).node.proposeConfChange(cc('removeNode', 3n)), (e) => isRaftError(e, 'ConfChangePending'));
  c.filter = null;
  c.tickAll(2);
  c.get(2n).node.proposeConfChange(cc('removeNode', 3n));
  c.stabilize();
  assert.deepEqual(c.get(2n).confState.voters, [1n, 2n]);
});

test('removing followers shrinks the quorum', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n, 4n, 5n], bootstrap: 'log' });
  c.campaign(1n);
  change(c, 1n, cc('removeNode', 5n));
  change(c, 1n, cc('removeNode', 4n));
  change(c, 1n, cc('removeNode', 3n));
  c.crash(3n);
  c.crash(4n);
  c.crash(5n);
  c.propose(1n, 'two voters left');
  assert.deepEqual(c.get(2n).appliedData(), ['two voters left']);
});

test('removing the leader itself: it steps down and the others elect a successor', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], bootstrap: 'log' });
  c.campaign(1n);
  c.propose(1n, 'before');
  change(c, 1n, cc('removeNode', 1n));
  assert.equal(c.get(1n).state, 'follower', 'the removed leader stepped down');
  for (const id of [2n, 3n]) assert.deepEqual(c.get(id).confState.voters, [2n, 3n], `node ${id} applied it`);
  c.tickAll(40);
  const l = c.leader();
  assert.ok(l.id === 2n || l.id === 3n);
  c.propose(l.id, 'after');
  for (const id of [2n, 3n]) assert.deepEqual(c.get(id).appliedData(), ['before', 'after']);
  c.get(1n).node.campaign();
  c.stabilize();
  assert.notEqual(c.get(1n).state, 'leader', 'a removed node never campaigns');
});

test('after removing the leader, a voter that missed the commit learns it from the removed node', () => {
  // Two voters. Node 2 stores the removal of node 1 (index 4) but hears neither that it
  // committed nor the entry after it (index 5). Node 1 commits and applies its removal and
  // steps down. Node 2 still counts node 1 as a voter and needs its vote; node 1 refuses (its
  // log is longer) but the refusal carries its commit index, so node 2 applies the removal
  // and then wins alone. Without that, node 2 would wait forever.
  const c = new Cluster({ voters: [1n, 2n], bootstrap: 'log', checkQuorum: false });
  c.campaign(1n);
  assert.equal(c.get(1n).node.raft.log.lastIndex(), 3);
  c.rewrite = (m) => (m.from === 1n && m.to === 2n
    ? { ...m, entries: m.entries.filter((e) => e.index < 5), commit: Math.min(m.commit, 3) }
    : m);
  c.get(1n).node.proposeConfChange(cc('removeNode', 1n));
  c.get(1n).node.propose(enc('tail'));
  c.stabilize();
  assert.deepEqual(c.get(1n).confState.voters, [2n]);
  assert.equal(c.get(1n).state, 'follower');
  assert.equal(c.get(1n).node.raft.log.lastIndex(), 5);
  assert.equal(c.get(2n).node.raft.log.lastIndex(), 4);
  assert.deepEqual(c.get(2n).confState.voters, [1n, 2n], 'node 2 never heard that the removal committed');
  c.rewrite = null;
  c.tickAll(60);
  assert.equal(c.get(2n).state, 'leader');
  assert.deepEqual(c.get(2n).confState.voters, [2n]);
});

test('invalid changes are refused at proposal time and ignored if committed', () => {
  const c = new Cluster({ voters: [1n, 2n], bootstrap: 'log' });
  c.campaign(1n);
  const refused = (x: ConfChange): void => {
    assert.throws(() => c.get(1n).node.proposeConfChange(x), (e) => isRaftError(e, 'InvalidConfChange'), x.type);
  };
  refused(cc('promote', 2n)); // not a learner
  refused(cc('addNode', 2n)); // already a voter
  refused(cc('addLearner', 2n)); // demotion
  refused(cc('removeNode', 9n)); // not a member
  change(c, 1n, cc('removeNode', 2n));
  refused(cc('removeNode', 1n)); // the last voter
  const cs = { voters: [1n], learners: [] };
  assert.equal(applyToConfState(cs, cc('removeNode', 1n)), cs, 'a committed invalid change is a no-op');
});

test('conf changes round-trip through their encoding; garbage is refused', () => {
  for (const type of ['addNode', 'addLearner', 'removeNode', 'promote'] as const) {
    const x: ConfChange = { type, nodeId: 0xffff_ffff_ffff_fff0n, context: enc(`ctx-${type}`) };
    assert.deepEqual(decodeConfChange(encodeConfChange(x)), x);
  }
  assert.throws(() => decodeConfChange(new Uint8Array([1, 0, 0])), (e) => isRaftError(e, 'CorruptData'));
  assert.throws(() => decodeConfChange(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0, 1])), (e) => isRaftError(e, 'CorruptData'));
  assert.throws(() => decodeConfChange(new Uint8Array([1, 9, 0, 0, 0, 0, 0, 0, 0, 1])), (e) => isRaftError(e, 'CorruptData'));
  assert.throws(() => encodeConfChange(cc('addNode', 0n)), (e) => isRaftError(e, 'InvalidConfChange'));
});
