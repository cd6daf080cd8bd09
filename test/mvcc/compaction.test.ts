import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempStore, put, get, del, b, s, errorKind, apply1 } from './helpers.js';

test('compaction bounds: future fails, at or below the compact revision fails, no revision taken', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    await put(st, 'a', '1'); await put(st, 'a', '2'); // 2, 3
    assert.equal(errorKind((await apply1(st, { compaction: { revision: 4n } })).outcome), 'FutureRev');
    // etcd's compaction point starts at -1: compacting at 0 succeeds once, then is compacted
    assert.equal(errorKind((await apply1(st, { compaction: { revision: 0n } })).outcome), undefined);
    assert.equal(st.compactRevision, 0n);
    assert.equal(errorKind((await apply1(st, { compaction: { revision: 0n } })).outcome), 'Compacted');
    const ok = (await apply1(st, { compaction: { revision: 3n } })).outcome;
    assert.deepEqual([ok.ok, ok.revision], [true, 3n]);
    assert.equal(st.currentRevision, 3n);
    assert.equal(st.compactRevision, 3n);
    assert.equal(errorKind((await apply1(st, { compaction: { revision: 3n } })).outcome), 'Compacted');
    assert.equal(errorKind((await apply1(st, { compaction: { revision: 2n } })).outcome), 'Compacted');
  } finally { await ts.cleanup(); }
});

test('after compaction reads below fail, reads at and above work and return the same data', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    await put(st, 'a', 'a1');  // 2
    await put(st, 'b', 'b1');  // 3
    await put(st, 'a', 'a2');  // 4
    await del(st, 'b');        // 5
    await put(st, 'c', 'c1');  // 6
    await put(st, 'a', 'a3');  // 7
    const before = new Map<bigint, string[]>();
    for (let r = 5n; r <= 7n; r++) {
      before.set(r, st.range({ key: b('\0'), rangeEnd: b('\0'), revision: r }).kvs.map((kv) => `${s(kv.key)}=${s(kv.value)}@${kv.modRevision}/${kv.version}`));
    }
    await st.applyBatch([{ compaction: { revision: 5n } }]);
    assert.throws(() => st.range({ key: b('a'), revision: 4n }), { kind: 'Compacted' });
    assert.throws(() => st.eventsSince(4n, 10), { kind: 'Compacted' });
    await st.compactionSettled();
    for (let r = 5n; r <= 7n; r++) {
      const after = st.range({ key: b('\0'), rangeEnd: b('\0'), revision: r }).kvs.map((kv) => `${s(kv.key)}=${s(kv.value)}@${kv.modRevision}/${kv.version}`);
      assert.deepEqual(after, before.get(r), `range at ${r}`);
    }
    assert.equal(s(get(st, 'a', 5n)!.value), 'a2', 'the newest version at or below the compact revision survives');
  } finally { await ts.cleanup(); }
});

test('history below the compact revision is physically removed, tombstones and dead keys too', async () => {
  const ts = tempStore({ compactionChunkEntries: 7 });
  try {
    const st = ts.store;
    for (let i = 0; i < 20; i++) await put(st, 'hot', `v${i}`);        // 2..21
    for (let i = 0; i < 10; i++) await put(st, `cold${i}`, 'x');       // 22..31
    await del(st, 'cold0', 'cold5');                                    // 32: 5 tombstones
    await put(st, 'cold1', 'again');                                    // 33
    assert.deepEqual(st.tableCounts(), { liveKeys: 7, deletedKeysWithHistory: 4, revisions: 36, leaseAttachments: 0 });
    const hashBefore = st.hashKV(0n).hash;
    await st.applyBatch([{ compaction: { revision: 32n } }]);
    assert.equal(st.hashKV(0n).hash, st.hashKV(0n).hash);
    const hashLogical = st.hashKV(0n).hash;
    await st.compactionSettled();
    // kept: hot@21, cold5..9 (5), cold1@33; the tombstones at 32 and everything older are gone
    assert.deepEqual(st.tableCounts(), { liveKeys: 7, deletedKeysWithHistory: 0, revisions: 7, leaseAttachments: 0 });
    assert.equal(st.hashKV(0n).hash, hashLogical, 'the hash does not depend on physical progress');
    assert.notEqual(hashBefore, hashLogical);
    assert.equal(s(get(st, 'hot', 32n)!.value), 'v19');
    assert.equal(get(st, 'cold0', 32n), undefined);
    assert.equal(s(get(st, 'cold1')!.value), 'again');
    assert.equal(get(st, 'cold1')!.version, 1n);
    const ev = st.eventsSince(32n, 100).events.map((e) => [e.type, s(e.kv.key), e.kv.modRevision]);
    assert.deepEqual(ev, [['PUT', 'cold1', 33n]], 'tombstones at the compact revision are not reported');
  } finally { await ts.cleanup(); }
});

test('a second compaction removes versions kept by the first; reads in between stay correct', async () => {
  const ts = tempStore({ compactionChunkEntries: 2 });
  try {
    const st = ts.store;
    await put(st, 'k', '1'); await put(st, 'k', '2'); await put(st, 'j', '1'); // 2,3,4
    await st.applyBatch([{ compaction: { revision: 3n } }]);
    await st.compactionSettled();
    assert.equal(st.tableCounts().revisions, 2);
    await put(st, 'k', '3'); // 5
    await del(st, 'j');      // 6
    await st.applyBatch([{ compaction: { revision: 6n } }]);
    assert.equal(s(get(st, 'k', 6n)!.value), '3');
    await st.compactionSettled();
    assert.deepEqual(st.tableCounts(), { liveKeys: 1, deletedKeysWithHistory: 0, revisions: 1, leaseAttachments: 0 });
    await put(st, 'j', 'reborn'); // 7
    const j = get(st, 'j')!;
    assert.deepEqual([j.createRevision, j.version], [7n, 1n]);
  } finally { await ts.cleanup(); }
});

test('physical compaction interrupted by close resumes after reopen', async () => {
  const ts = tempStore({ compactionChunkEntries: 1 });
  try {
    for (let i = 0; i < 200; i++) await put(ts.store, 'k', `${i}`);
    await ts.store.applyBatch([{ compaction: { revision: 150n } }]);
    const st = await ts.reopen(); // close stops the loop after at most a few chunks
    assert.equal(st.compactRevision, 150n);
    assert.ok(st.tableCounts().revisions > 100, 'the pass was interrupted');
    await st.compactionSettled();
    assert.equal(st.tableCounts().revisions, 52, 'k@150 .. k@201');
    assert.equal(s(get(st, 'k', 150n)!.value), '148');
  } finally { await ts.cleanup(); }
});

test('hashKV: same history gives the same hash; revision bounds as etcd', async () => {
  const a = tempStore();
  const c = tempStore();
  try {
    for (const ts of [a, c]) {
      await put(ts.store, 'x', '1'); await put(ts.store, 'y', '2'); await del(ts.store, 'x');
    }
    assert.deepEqual(a.store.hashKV(0n), c.store.hashKV(0n));
    assert.equal(a.store.hashKV(0n).hashRevision, 4n);
    assert.notEqual(a.store.hashKV(3n).hash, a.store.hashKV(4n).hash);
    await put(c.store, 'z', '3');
    assert.equal(a.store.hashKV(4n).hash, c.store.hashKV(4n).hash, 'a hash at a past revision ignores later writes');
    assert.notEqual(a.store.hashKV(0n).hash, c.store.hashKV(0n).hash);
    assert.throws(() => a.store.hashKV(5n), { kind: 'FutureRev' });
    await a.store.applyBatch([{ compaction: { revision: 3n } }]);
    assert.throws(() => a.store.hashKV(2n), { kind: 'Compacted' });
    assert.equal(a.store.hashKV(3n).compactRevision, 3n);
  } finally { await a.cleanup(); await c.cleanup(); }
});
