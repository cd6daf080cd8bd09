/**
 * Leader transfer: catch the target up, then TimeoutNow; proposals are refused meanwhile; an
 * unfinished transfer is abandoned after an election timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, MessageType as MT, enc } from './harness.js';
import { isRaftError } from '../../src/raft/index.js';

test('transfer to an up-to-date follower: it leads in the next term without an election timeout', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n] });
  c.campaign(1n);
  c.propose(1n, 'a');
  const term = c.get(1n).term;
  c.get(1n).node.transferLeader(3n);
  c.stabilize(); // no ticks: only TimeoutNow can explain the election
  assert.equal(c.get(3n).state, 'leader');
  assert.equal(c.get(3n).term, term + 1);
  c.propose(3n, 'b');
  for (const n of c.nodes.values()) assert.deepEqual(n.appliedData(), ['a', 'b']);
});

test('transfer to a lagging follower catches it up before TimeoutNow', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n] });
  c.campaign(1n);
  c.isolate(3n);
  for (let i = 0; i < 10; i++) c.propose(1n, `v${i}`);
  const at: number[][] = [];
  c.tap = (m) => {
    if (m.type === MT.TimeoutNow) at.push([c.get(3n).node.raft.log.lastIndex(), c.get(1n).node.raft.log.lastIndex()]);
  };
  c.heal();
  c.get(1n).node.transferLeader(3n);
  c.stabilize();
  assert.equal(at.length, 1);
  assert.equal(at[0][0], at[0][1], 'sent once node 3 had everything the leader had');
  assert.equal(c.get(3n).state, 'leader');
  assert.equal(c.get(3n).appliedData().length, 10);
});

test('proposals are refused during a transfer; an unreachable target is abandoned', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], electionTick: 10 });
  c.campaign(1n);
  c.isolate(3n);
  c.get(1n).node.transferLeader(3n);
  c.stabilize();
  assert.throws(() => c.get(1n).node.propose(enc('x')), (e) => isRaftError(e, 'ProposalDropped'));
  for (let i = 0; i < 10; i++) c.tick(1n);
  c.get(1n).node.propose(enc('x')); // abandoned after one election timeout
  c.stabilize();
  assert.equal(c.get(1n).state, 'leader');
  assert.deepEqual(c.get(2n).appliedData(), ['x']);
});

test('a transfer asked at a follower is forwarded to the leader', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n] });
  c.campaign(1n);
  c.get(2n).node.transferLeader(2n);
  c.stabilize();
  assert.equal(c.get(2n).state, 'leader');
});

test('a transfer to a learner is ignored', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], learners: [4n] });
  c.campaign(1n);
  c.get(1n).node.transferLeader(4n);
  c.stabilize();
  assert.equal(c.get(1n).state, 'leader');
  assert.equal(c.get(1n).node.status().leadTransferee, 0n);
  c.propose(1n, 'still accepting');
});
