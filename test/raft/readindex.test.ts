/**
 * ReadIndex: linearizable reads confirmed by one heartbeat round, refused until the leader
 * has committed an entry of its term, forwarded from followers, and never stale.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, MessageType as MT, enc } from './harness.js';

const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

test('a read at the leader is answered after one heartbeat round with its commit index', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n] });
  c.campaign(1n);
  c.propose(1n, 'a');
  const commit = c.get(1n).commit;
  let heartbeats = 0;
  c.tap = (m) => { if (m.type === MT.Heartbeat && m.context.length > 0) heartbeats++; };
  c.get(1n).node.readIndex(enc('read-1'));
  c.stabilize();
  assert.deepEqual(c.get(1n).readStates.map((r) => [r.index, dec(r.requestCtx)]), [[commit, 'read-1']]);
  assert.equal(heartbeats, 2, 'one heartbeat to each follower');
});

test('one heartbeat round confirms every read that arrived meanwhile', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n] });
  c.campaign(1n);
  let heartbeats = 0;
  c.tap = (m) => { if (m.type === MT.Heartbeat && m.context.length > 0) heartbeats++; };
  for (let i = 0; i < 50; i++) c.get(1n).node.readIndex(enc(`r${i}`));
  c.stabilize();
  assert.equal(c.get(1n).readStates.length, 50);
  assert.equal(heartbeats, 2, 'fifty reads, one heartbeat per follower');
});

test('a read at a follower is forwarded to the leader and answered to the follower', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n] });
  c.campaign(1n);
  c.propose(1n, 'a');
  c.get(3n).node.readIndex(enc('from-3'));
  c.stabilize();
  assert.deepEqual(c.get(3n).readStates.map((r) => dec(r.requestCtx)), ['from-3']);
  assert.equal(c.get(3n).readStates[0].index, c.get(1n).commit);
  assert.equal(c.get(1n).readStates.length, 0);
});

test('a new leader answers no read until it has committed an entry of its own term', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], preVote: false, checkQuorum: false });
  c.campaign(1n);
  c.propose(1n, 'a');
  // Node 2 wins, but its appends (with its first entry of the new term) are held back.
  c.filter = (m) => !(m.from === 2n && m.type === MT.App);
  c.campaign(2n);
  assert.equal(c.get(2n).state, 'leader');
  c.get(2n).node.readIndex(enc('early'));
  c.stabilize();
  assert.equal(c.get(2n).readStates.length, 0, 'refused while nothing of its term is committed');
  c.filter = null;
  c.tickAll(2);
  assert.deepEqual(c.get(2n).readStates.map((r) => dec(r.requestCtx)), ['early']);
  assert.ok(c.get(2n).readStates[0].index >= 3, 'the read index covers the new leader\'s entry');
});

test('a single voter also waits for its first commit of the term after a restart', () => {
  const c = new Cluster({ voters: [1n] });
  c.campaign(1n);
  c.propose(1n, 'a');
  c.crash(1n);
  c.restart(1n);
  c.get(1n).node.campaign();
  // Leader again, but its empty entry is not yet durable, so not committed.
  assert.equal(c.get(1n).state, 'leader');
  c.get(1n).node.readIndex(enc('r'));
  assert.equal(c.get(1n).node.raft.readStates.length, 0);
  c.stabilize();
  assert.equal(c.get(1n).readStates.length, 1);
  assert.equal(c.get(1n).readStates[0].index, c.get(1n).commit);
});

test('an old leader cut off with a minority cannot serve a stale read', () => {
  const ids = [1n, 2n, 3n, 4n, 5n];
  // checkQuorum off so the old leader keeps believing it leads: only the quorum of heartbeat
  // acknowledgements stands between the read and a stale answer.
  const c = new Cluster({ voters: ids, preVote: false, checkQuorum: false });
  c.campaign(1n);
  c.propose(1n, 'x=1');
  c.partition([1n, 2n], [3n, 4n, 5n]);
  c.campaign(3n);
  c.propose(3n, 'x=2');
  const committedElsewhere = c.get(3n).commit;
  assert.equal(c.get(1n).state, 'leader');
  c.get(1n).node.readIndex(enc('stale?'));
  c.get(2n).node.readIndex(enc('stale via follower?'));
  c.tickAll(5);
  for (const id of [1n, 2n]) {
    for (const rs of c.get(id).readStates) {
      assert.ok(rs.index >= committedElsewhere, `node ${id} answered ${dec(rs.requestCtx)} at ${rs.index} < ${committedElsewhere}`);
    }
  }
  assert.equal(c.get(1n).readStates.length + c.get(2n).readStates.length, 0, 'no quorum, no answer');
});

test('reads pending at a leader that steps down are never answered by it', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n], preVote: false });
  c.campaign(1n);
  c.isolate(1n);
  c.get(1n).node.readIndex(enc('r'));
  c.stabilize();
  c.campaign(2n);
  c.heal();
  c.tickAll(5);
  assert.equal(c.get(1n).state, 'follower');
  assert.equal(c.get(1n).readStates.length, 0, 'the request is lost; the host times out and retries');
});

test('readIndex needs a non-empty request context', () => {
  const c = new Cluster({ voters: [1n] });
  c.campaign(1n);
  assert.throws(() => c.get(1n).node.readIndex(new Uint8Array(0)), { kind: 'InvalidArgument' } as object);
});
