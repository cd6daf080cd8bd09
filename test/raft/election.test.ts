/**
 * Elections: pre-vote, check-quorum, leader stickiness, learners, and the classic traps of
 * the Raft paper (Figure 8, a stale leader, a longer but stale log).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, MessageType as MT, enc } from './harness.js';

test('a partitioned node rejoining does not depose a healthy leader when pre-vote is on', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], preVote: true, checkQuorum: false });
  c.campaign(1n);
  const term = c.get(1n).term;
  c.isolate(3n);
  c.tickAll(100); // node 3 times out again and again, but only pre-votes
  assert.equal(c.get(3n).term, term, 'pre-vote keeps the isolated node at the cluster term');
  c.heal();
  c.tickAll(30);
  assert.equal(c.get(1n).state, 'leader');
  assert.equal(c.get(1n).term, term, 'no election happened');
});

test('without pre-vote the same rejoin inflates the term and deposes the leader', () => {
  // The control experiment for the test above: it shows what pre-vote prevents.
  const c = new Cluster({ voters: [1n, 2n, 3n], preVote: false, checkQuorum: false });
  c.campaign(1n);
  const term = c.get(1n).term;
  c.isolate(3n);
  c.tickAll(100);
  assert.ok(c.get(3n).term > term + 3, 'the isolated node kept raising its term');
  c.heal();
  c.tickAll(30);
  assert.ok(c.get(1n).term > term, 'the leader saw a higher term');
});

test('check-quorum: a leader that cannot reach a quorum steps down within an election timeout', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], checkQuorum: true, electionTick: 10 });
  c.campaign(1n);
  c.isolate(1n);
  for (let i = 0; i < 10; i++) c.tick(1n);
  c.stabilize();
  assert.equal(c.get(1n).state, 'leader', 'still leader right at the end of the first period');
  for (let i = 0; i < 10; i++) c.tick(1n);
  c.stabilize();
  assert.equal(c.get(1n).state, 'follower');
});

test('without check-quorum an isolated leader stays leader indefinitely', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], checkQuorum: false });
  c.campaign(1n);
  c.isolate(1n);
  for (let i = 0; i < 100; i++) c.tick(1n);
  c.stabilize();
  assert.equal(c.get(1n).state, 'leader');
});

test('leader stickiness: a follower that hears from its leader ignores a higher-term vote request', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], preVote: false, checkQuorum: true });
  c.campaign(1n);
  const term = c.get(1n).term;
  // Node 3 forces an election (as if its timer fired early) while 1 and 2 are healthy.
  c.campaign(3n);
  assert.equal(c.get(2n).term, term, 'node 2 did not adopt the candidate term');
  assert.equal(c.get(1n).state, 'leader');
  assert.equal(c.leader().id, 1n);
});

test('a learner never campaigns, and its vote never counts', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], learners: [4n], preVote: false, checkQuorum: false });
  c.tickAll(300);
  assert.notEqual(c.get(4n).state, 'leader');
  const votesFromLearner: number[] = [];
  c.tap = (m) => { if (m.type === MT.Vote && m.from === 4n) votesFromLearner.push(m.term); };
  for (let i = 0; i < 200; i++) c.tick(4n);
  c.stabilize();
  assert.deepEqual(votesFromLearner, [], 'the learner sent no vote request');
  // Only node 1 and the learner are up: the learner's grant must not make 1 leader.
  const leaderTerm = c.leader().term;
  for (const id of [1n, 2n, 3n]) c.crash(id);
  c.restart(1n);
  c.campaign(1n);
  assert.equal(c.get(1n).state, 'candidate', 'one voter plus a learner is not a quorum of three');
  assert.ok(c.get(1n).term > leaderTerm);
});

test('Figure 8: an entry of an older term is not committed by counting replicas', () => {
  const ids = [1n, 2n, 3n, 4n, 5n];
  const c = new Cluster({ voters: ids, preVote: false, checkQuorum: false, maxSizePerMsgBytes: 1 });
  c.campaign(1n); // term 1, entry 1 (empty, term 1) committed everywhere
  assert.equal(c.get(1n).commit, 1);

  // S1 appends "old" at index 2 and gets it only to S2.
  c.filter = (m) => m.from !== 1n || m.to === 2n;
  c.propose(1n, 'old');
  assert.equal(c.get(2n).node.raft.log.lastIndex(), 2);
  assert.equal(c.get(1n).commit, 1);

  // S1 crashes; S5 wins term 2 with S3 and S4 and appends an entry nobody receives.
  c.crash(1n);
  c.filter = (m) => !(m.from === 5n && (m.type === MT.App || m.type === MT.Heartbeat));
  c.campaign(5n);
  assert.equal(c.get(5n).state, 'leader');
  assert.equal(c.get(5n).node.raft.log.lastTerm(), 2);
  c.crash(5n);

  // S1 comes back and wins term 3 (S2, S3, S4); it re-replicates "old" (term 1) to a majority
  // but its own term-3 entry (index 3) never arrives: appends lose every entry from index 3.
  c.restart(1n);
  c.filter = null;
  c.rewrite = (m) => (m.type === MT.App ? { ...m, entries: m.entries.filter((e) => e.index < 3) } : m);
  c.campaign(1n);
  c.campaign(1n);
  c.tickAll(5); // heartbeats let the probes proceed
  const s1 = c.get(1n);
  assert.equal(s1.state, 'leader');
  assert.equal(s1.term, 3);
  for (const id of [2n, 3n, 4n]) assert.equal(c.get(id).node.raft.log.term(2), 1, `S${id} holds "old"`);
  assert.equal(s1.commit, 1, '"old" is on a majority but from term 1: not committed by counting');

  // Why that matters: S5 can still win (its last term, 2, beats theirs) and overwrite index 2.
  c.crash(1n);
  c.restart(5n);
  c.rewrite = null;
  c.campaign(5n); // term 3: they all voted for S1 in term 3
  c.campaign(5n); // term 4
  assert.equal(c.get(5n).state, 'leader');
  for (const id of [2n, 3n, 4n, 5n]) {
    assert.equal(c.get(id).node.raft.log.term(2), 2, `S${id} index 2 now from term 2`);
    assert.ok(!c.get(id).appliedData().includes('old'), 'nobody applied the uncommitted entry');
  }
});

test('Figure 8, the other ending: committing an entry of the current term commits the old one', () => {
  const ids = [1n, 2n, 3n, 4n, 5n];
  const c = new Cluster({ voters: ids, preVote: false, checkQuorum: false });
  c.campaign(1n);
  c.filter = (m) => m.from !== 1n || m.to === 2n;
  c.propose(1n, 'old');
  c.crash(1n);
  c.restart(1n);
  c.filter = null;
  c.campaign(1n); // new term: its empty entry commits, and "old" with it
  for (const id of ids) assert.deepEqual(c.get(id).appliedData(), ['old']);
});

test('a partitioned old leader: its stale proposals are discarded, the new leader\'s writes win', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], preVote: true, checkQuorum: true });
  c.campaign(1n);
  c.propose(1n, 'before');
  c.partition([1n], [2n, 3n]);
  c.propose(1n, 'stale-1');
  c.propose(1n, 'stale-2');
  assert.equal(c.get(1n).node.raft.log.lastIndex(), 4, 'the old leader appended them locally');
  c.tickAll(40); // 2 and 3 stop hearing from 1; once their lease lapses one of them wins
  const leader = c.leader();
  assert.notEqual(leader.id, 1n);
  c.propose(leader.id, 'fresh');
  c.heal();
  c.tickAll(30);
  for (const id of [1n, 2n, 3n]) {
    assert.deepEqual(c.get(id).appliedData(), ['before', 'fresh'], `node ${id}`);
  }
  assert.equal(c.get(1n).state, 'follower');
});

test('a rejoining node with a longer but stale log loses the election and its tail is replaced', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], preVote: false, checkQuorum: false });
  c.campaign(3n);
  c.isolate(3n);
  for (let i = 0; i < 20; i++) c.propose(3n, `stale-${i}`);
  c.campaign(1n);
  c.propose(1n, 'new');
  const longer = c.get(3n).node.raft.log.lastIndex();
  assert.ok(longer > c.get(1n).node.raft.log.lastIndex(), 'node 3 has the longer log');
  c.heal();
  c.crash(1n); // so that only node 2's vote decides
  c.crash(3n);
  c.restart(3n); // back as a follower, with its long log
  c.campaign(3n); // term 2: node 2 already voted in term 2
  c.campaign(3n); // term 3: node 2 is free to vote, but node 3's last term (1) is older
  assert.equal(c.get(3n).term, 3);
  assert.notEqual(c.get(3n).state, 'leader', 'node 2 refuses the longer but stale log');
  c.restart(1n);
  c.campaign(1n);
  c.tickAll(5);
  assert.deepEqual(c.get(3n).appliedData(), ['new']);
  assert.equal(c.get(3n).node.raft.log.lastIndex(), c.get(1n).node.raft.log.lastIndex());
});

test('proposals without a leader fail with ProposalDropped; reads with ReadIndexDropped', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n] });
  assert.throws(() => c.get(1n).node.propose(enc('x')), { name: 'RaftError', kind: 'ProposalDropped' } as object);
  assert.throws(() => c.get(1n).node.readIndex(enc('r')), { name: 'RaftError', kind: 'ReadIndexDropped' } as object);
});
