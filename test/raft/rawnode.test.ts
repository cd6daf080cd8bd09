/**
 * The host contract of RawNode: ready/advance order, what a Ready carries and when, input
 * validation, status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MemoryStorage, MessageType as MT, RawNode, isRaftError, newMessage, seededRandom, type Ready,
} from '../../src/raft/index.js';
import { enc } from './harness.js';

function singleNode(): { node: RawNode; storage: MemoryStorage; handle: () => Ready } {
  const storage = new MemoryStorage();
  storage.setConfState({ voters: [1n], learners: [] });
  const node = new RawNode({ id: 1n, storage, random: seededRandom(3) });
  const handle = (): Ready => {
    const rd = node.ready();
    if (rd.snapshot) storage.applySnapshot(rd.snapshot);
    if (rd.hardState) storage.setHardState(rd.hardState);
    storage.append(rd.entries);
    node.advance();
    return rd;
  };
  return { node, storage, handle };
}

test('ready() twice without advance() and advance() without ready() are refused', () => {
  const { node } = singleNode();
  node.campaign();
  node.ready();
  assert.equal(node.hasReady(), false, 'nothing new is offered while a Ready is outstanding');
  assert.throws(() => node.ready(), (e) => isRaftError(e, 'ReadyContract'));
  node.advance();
  assert.throws(() => node.advance(), (e) => isRaftError(e, 'ReadyContract'));
});

test('mustSync: entries and term/vote changes need an fsync, a commit-only change does not', () => {
  const { node, handle } = singleNode();
  node.campaign();
  const first = handle();
  assert.equal(first.mustSync, true, 'new term, vote and the empty entry');
  assert.deepEqual(first.softState, { lead: 1n, state: 'leader' });
  const second = handle();
  assert.equal(second.entries.length, 0);
  assert.ok(second.hardState !== null && second.hardState.commit === 1);
  assert.equal(second.mustSync, false, 'only the commit index moved');
  assert.equal(second.softState, null, 'no role change');
  assert.equal(node.hasReady(), false);
});

test('work done between ready() and advance() is carried by the next Ready', () => {
  const { node, storage, handle } = singleNode();
  node.campaign();
  handle();
  handle();
  node.propose(enc('a'));
  const rd = node.ready();
  node.propose(enc('b')); // while the host persists "a"
  assert.deepEqual(rd.entries.map((e) => new TextDecoder().decode(e.data)), ['a']);
  storage.append(rd.entries);
  node.advance();
  const next = node.ready();
  assert.deepEqual(next.entries.map((e) => new TextDecoder().decode(e.data)), ['b']);
  assert.deepEqual(next.committedEntries.map((e) => new TextDecoder().decode(e.data)), ['a']);
});

test('a restart with `applied` does not hand out applied entries again', () => {
  const { node, storage, handle } = singleNode();
  node.campaign();
  handle();
  for (const v of ['a', 'b', 'c']) node.propose(enc(v));
  handle();
  const rd = handle();
  assert.equal(rd.committedEntries.length, 3);
  const applied = rd.committedEntries[1].index; // the host got as far as "b"
  const again = new RawNode({ id: 1n, storage, applied, random: seededRandom(4) });
  const first = again.ready();
  assert.deepEqual(first.committedEntries.map((e) => new TextDecoder().decode(e.data)), ['c']);
});

test('local message types from the network are refused; unknown responders are ignored', () => {
  const { node } = singleNode();
  assert.throws(() => node.step(newMessage(MT.Hup, 1n, 2n, 1)), (e) => isRaftError(e, 'StepLocalMsg'));
  assert.throws(() => node.step({ ...newMessage(MT.App, 1n, 2n, 1), index: -1 }), (e) => isRaftError(e, 'InvalidArgument'));
  assert.throws(() => node.step({ ...newMessage(MT.App, 1n, 2n, 1), term: 1.5 }), (e) => isRaftError(e, 'InvalidArgument'));
  node.campaign();
  node.step(newMessage(MT.AppResp, 1n, 9n, 1)); // not a member: dropped, no throw
  assert.equal(node.status().state, 'leader');
});

test('config is validated', () => {
  const storage = new MemoryStorage();
  const random = seededRandom(1);
  assert.throws(() => new RawNode({ id: 0n, storage, random }), (e) => isRaftError(e, 'InvalidArgument'));
  assert.throws(() => new RawNode({ id: 1n, storage, random, electionTick: 2, heartbeatTick: 2 }), (e) => isRaftError(e, 'InvalidArgument'));
  assert.throws(() => new RawNode({ id: 1n, storage, random, applied: 5 }), (e) => isRaftError(e, 'InvalidArgument'));
});

test('status() reports the role, indexes and, on the leader, every peer\'s progress', () => {
  const storage = new MemoryStorage();
  storage.setConfState({ voters: [1n, 2n, 3n], learners: [4n] });
  const node = new RawNode({ id: 1n, storage, random: seededRandom(1), preVote: false });
  node.campaign();
  for (const id of [2n, 3n]) {
    node.step({ ...newMessage(MT.VoteResp, 1n, id, 1) });
  }
  const s = node.status();
  assert.equal(s.state, 'leader');
  assert.equal(s.term, 1);
  assert.deepEqual([...s.progress.keys()].sort(), [1n, 2n, 3n, 4n]);
  assert.equal(s.progress.get(4n)?.isLearner, true);
  assert.deepEqual(s.confState, { voters: [1n, 2n, 3n], learners: [4n] });
});
