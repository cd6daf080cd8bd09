/**
 * MemoryStorage, the log (storage + unstable tail), progress and the in-flight window: the
 * building blocks, table by table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage, isRaftError, type Entry } from '../../src/raft/index.js';
import { RaftLog, TERM_COMPACTED, TERM_UNAVAILABLE } from '../../src/raft/log.js';
import { Inflights } from '../../src/raft/inflights.js';
import { Progress } from '../../src/raft/progress.js';

const ent = (index: number, term: number, data = ''): Entry =>
  ({ index, term, type: 'normal', data: new TextEncoder().encode(data) });
const terms = (es: readonly Entry[]): number[] => es.map((e) => e.term);

test('MemoryStorage: append truncates a conflicting tail and refuses gaps', () => {
  const s = new MemoryStorage();
  s.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
  s.append([ent(2, 2)]);
  assert.equal(s.lastIndex(), 2);
  assert.equal(s.term(2), 2);
  assert.throws(() => s.append([ent(5, 2)]), (e) => isRaftError(e, 'InvalidArgument'));
  assert.throws(() => s.term(3), (e) => isRaftError(e, 'Unavailable'));
});

test('MemoryStorage: compaction, snapshots and their errors', () => {
  const s = new MemoryStorage();
  s.append([1, 2, 3, 4, 5].map((i) => ent(i, i <= 2 ? 1 : 2)));
  const snap = s.createSnapshot(3, { voters: [1n], learners: [] }, new Uint8Array([9]));
  assert.equal(snap.metadata.term, 2);
  s.compact(3);
  assert.equal(s.firstIndex(), 4);
  assert.equal(s.term(3), 2, 'the compacted boundary keeps its term');
  assert.throws(() => s.term(2), (e) => isRaftError(e, 'Compacted'));
  assert.throws(() => s.entries(3, 5, Infinity), (e) => isRaftError(e, 'Compacted'));
  assert.throws(() => s.entries(4, 7, Infinity), (e) => isRaftError(e, 'Unavailable'));
  assert.throws(() => s.createSnapshot(3, { voters: [1n], learners: [] }, new Uint8Array()), (e) => isRaftError(e, 'SnapOutOfDate'));
  assert.throws(() => s.applySnapshot(snap), (e) => isRaftError(e, 'SnapOutOfDate'));
  s.applySnapshot({ metadata: { index: 10, term: 4, confState: { voters: [1n, 2n], learners: [] } }, data: new Uint8Array() });
  assert.equal(s.firstIndex(), 11);
  assert.equal(s.lastIndex(), 10);
  assert.deepEqual(s.initialState().confState.voters, [1n, 2n]);
});

test('MemoryStorage: entries are cut to maxBytes but never to nothing', () => {
  const s = new MemoryStorage();
  s.append([1, 2, 3, 4].map((i) => ent(i, 1, 'x'.repeat(34)))); // 50 bytes charged each
  assert.equal(s.entries(1, 5, 100).length, 2);
  assert.equal(s.entries(1, 5, 99).length, 1);
  assert.equal(s.entries(1, 5, 0).length, 1);
  assert.equal(s.entries(1, 5, Infinity).length, 4);
});

test('RaftLog: maybeAppend finds the conflict, truncates only uncommitted entries, bounds the commit', () => {
  const s = new MemoryStorage();
  s.append([ent(1, 1), ent(2, 2), ent(3, 2)]);
  const log = new RaftLog(s, Infinity);
  // (index, logTerm) must match
  assert.equal(log.maybeAppend(3, 1, 3, [ent(4, 3)]), -1);
  // matching prefix: replace index 3 onwards, commit only up to the last new entry
  assert.equal(log.maybeAppend(2, 2, 10, [ent(3, 3), ent(4, 3)]), 4);
  assert.deepEqual(terms(log.slice(1, 5, Infinity)), [1, 2, 3, 3]);
  assert.equal(log.committed, 4);
  // a conflict at or below the commit index is a bug, refused loudly
  assert.throws(() => log.maybeAppend(1, 1, 4, [ent(2, 9)]));
  // entries already present are not re-appended
  assert.equal(log.maybeAppend(1, 1, 4, [ent(2, 2), ent(3, 3)]), 3);
  assert.equal(log.lastIndex(), 4);
});

test('RaftLog: term lookups across compaction, storage and the unstable tail', () => {
  const s = new MemoryStorage();
  s.append([ent(1, 1), ent(2, 1), ent(3, 2)]);
  s.createSnapshot(2, { voters: [1n], learners: [] }, new Uint8Array());
  s.compact(2);
  const log = new RaftLog(s, Infinity);
  log.append([ent(4, 3)]);
  assert.equal(log.term(1), TERM_COMPACTED);
  assert.equal(log.term(2), 1);
  assert.equal(log.term(3), 2);
  assert.equal(log.term(4), 3);
  assert.equal(log.term(5), TERM_UNAVAILABLE);
  assert.deepEqual(log.findConflictByTerm(4, 2), { index: 3, term: 2 });
  assert.deepEqual(log.findConflictByTerm(4, 1), { index: 2, term: 1 });
  assert.equal(log.isUpToDate(4, 3), true);
  assert.equal(log.isUpToDate(3, 3), false, 'same last term, shorter log');
  assert.equal(log.isUpToDate(1, 4), true, 'later last term wins over length');
});

test('RaftLog: only an entry of the current term is committed by counting', () => {
  const s = new MemoryStorage();
  s.append([ent(1, 1), ent(2, 2)]);
  const log = new RaftLog(s, Infinity);
  assert.equal(log.maybeCommit(2, 3), false);
  assert.equal(log.maybeCommit(2, 2), true);
  assert.equal(log.committed, 2);
});

test('Inflights: a bounded window freed by acknowledgements', () => {
  const w = new Inflights(3, Infinity);
  w.add(10, 1);
  w.add(20, 1);
  w.add(30, 1);
  assert.equal(w.full(), true);
  assert.throws(() => w.add(40, 1));
  w.freeLE(20);
  assert.equal(w.length, 1);
  w.add(40, 1);
  w.add(50, 1);
  assert.equal(w.full(), true);
  w.freeFirstOne();
  assert.equal(w.length, 2);
  const bytes = new Inflights(10, 100);
  bytes.add(1, 60);
  assert.equal(bytes.full(), false);
  bytes.add(2, 60);
  assert.equal(bytes.full(), true, 'the byte bound closes the window');
});

test('Progress: probe waits, replicate streams, stale rejections are ignored', () => {
  const p = new Progress(11, false, new Inflights(4, Infinity));
  p.sentEntries(3, 30, 13);
  assert.equal(p.isPaused(), true, 'probe: one append at a time');
  assert.equal(p.maybeUpdate(13), true);
  p.becomeReplicate();
  assert.equal(p.next, 14);
  for (let i = 0; i < 4; i++) p.sentEntries(1, 10, 14 + i);
  assert.equal(p.isPaused(), true, 'replicate: window full');
  assert.equal(p.maybeDecrTo(12, 0), false, 'a rejection below match is stale');
  assert.equal(p.maybeDecrTo(15, 0), true);
  assert.equal(p.next, 14, 'replicate falls back to match + 1');
  p.becomeProbe();
  assert.equal(p.maybeDecrTo(20, 15), false, 'probe: only the answer to the last probe counts');
  assert.equal(p.maybeDecrTo(13, 11), true);
  assert.equal(p.next, 14, 'never below match + 1');
});
