/**
 * Snapshots: the host compacts its log behind a snapshot; a follower too far behind receives
 * the snapshot, then the log; snapshot status reports drive the leader's retries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, MessageType as MT } from './harness.js';
import type { Message } from '../../src/raft/index.js';

function setup(): Cluster {
  const c = new Cluster({ voters: [1n, 2n, 3n] });
  c.campaign(1n);
  c.propose(1n, 'a');
  c.isolate(3n);
  for (let i = 0; i < 20; i++) c.propose(1n, `v${i}`);
  c.snapshotAndCompact(1n);
  c.snapshotAndCompact(2n);
  return c;
}

test('a follower behind the leader\'s compacted log gets the snapshot, then the log', () => {
  const c = setup();
  const snaps: Message[] = [];
  c.tap = (m) => { if (m.type === MT.Snap) snaps.push(m); };
  c.heal();
  c.tickAll(3);
  assert.equal(snaps.length, 1, 'one snapshot sent');
  assert.equal(snaps[0].to, 3n);
  c.propose(1n, 'after');
  const n3 = c.get(3n);
  assert.equal(n3.storage.snapshot().metadata.index, snaps[0].snapshot!.metadata.index);
  assert.deepEqual(n3.appliedData(), c.get(1n).appliedData());
  assert.equal(n3.appliedData().at(-1), 'after', 'replication continues from the log after it');
  assert.deepEqual(n3.confState, { voters: [1n, 2n, 3n], learners: [] });
});

test('a follower that still has the entries gets the log, not a snapshot', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n] });
  c.campaign(1n);
  c.isolate(3n);
  for (let i = 0; i < 20; i++) c.propose(1n, `v${i}`);
  c.snapshotAndCompact(1n, 25); // keeps everything node 3 lacks
  let snaps = 0;
  c.tap = (m) => { if (m.type === MT.Snap) snaps++; };
  c.heal();
  c.tickAll(3);
  assert.equal(snaps, 0);
  assert.equal(c.get(3n).appliedData().length, 20);
});

test('a failed snapshot send is retried after the host reports it', () => {
  const c = setup();
  let snaps = 0;
  c.tap = (m) => { if (m.type === MT.Snap) snaps++; };
  c.filter = (m) => m.type !== MT.Snap; // lost in transit
  c.heal();
  c.tickAll(2);
  assert.equal(snaps, 1);
  assert.equal(c.get(1n).node.status().progress.get(3n)?.state, 'snapshot', 'waits for the report');
  c.tickAll(3);
  assert.equal(snaps, 1, 'nothing more until the host reports');
  c.get(1n).node.reportSnapshot(3n, false);
  c.filter = null;
  c.tickAll(3);
  assert.equal(snaps, 2);
  assert.equal(c.get(3n).appliedData().length, 21);
});

test('a restart after installing a snapshot resumes from it', () => {
  const c = setup();
  c.heal();
  c.tickAll(3);
  c.crash(3n);
  c.restart(3n);
  c.propose(1n, 'later');
  c.tickAll(2);
  assert.equal(c.get(3n).appliedData().at(-1), 'later');
  assert.equal(c.get(3n).node.raft.log.firstIndex(), c.get(3n).storage.snapshot().metadata.index + 1);
});

test('a stale snapshot (not newer than the commit index) is ignored', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n] });
  c.campaign(1n);
  for (let i = 0; i < 5; i++) c.propose(1n, `v${i}`);
  const snap = c.snapshotAndCompact(1n);
  c.propose(1n, 'more');
  const n2 = c.get(2n);
  const commit = n2.commit;
  n2.node.step({
    type: MT.Snap, from: 1n, to: 2n, term: n2.term, logTerm: 0, index: 0, entries: [], commit: 0,
    snapshot: snap, reject: false, rejectHint: 0, context: new Uint8Array(0),
  });
  assert.equal(n2.node.raft.log.hasPendingSnapshot(), false);
  assert.equal(n2.commit, commit);
});
