import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempStore, put, del, b, s, keysOf } from './helpers.js';
import type { MvccStore } from '../../src/mvcc/store.js';

/** k1..k5 with values chosen so value order, version order and key order differ. */
async function seed(st: MvccStore): Promise<void> {
  await put(st, 'k1', 'e');  // 2
  await put(st, 'k2', 'd');  // 3
  await put(st, 'k3', 'c');  // 4
  await put(st, 'k4', 'b');  // 5
  await put(st, 'k5', 'a');  // 6
  await put(st, 'k2', 'd');  // 7: k2 version 2
  await put(st, 'k2', 'd');  // 8: k2 version 3
  await put(st, 'k4', 'b');  // 9: k4 version 2
  await put(st, 'x', 'outside'); // 10
}

test('single key, [key, end), from-key and all-keys ranges; end <= key is empty', async () => {
  const ts = tempStore();
  try {
    await seed(ts.store);
    assert.deepEqual(keysOf(ts.store, { key: b('k3') }), ['k3']);
    assert.deepEqual(keysOf(ts.store, { key: b('k'), }), []);
    assert.deepEqual(keysOf(ts.store, { key: b('k2'), rangeEnd: b('k4') }), ['k2', 'k3']);
    assert.deepEqual(keysOf(ts.store, { key: b('k4'), rangeEnd: b('\0') }), ['k4', 'k5', 'x']);
    assert.deepEqual(keysOf(ts.store, { key: b('\0'), rangeEnd: b('\0') }), ['k1', 'k2', 'k3', 'k4', 'k5', 'x']);
    assert.deepEqual(keysOf(ts.store, { key: b('k4'), rangeEnd: b('k2') }), []);
    assert.deepEqual(keysOf(ts.store, { key: b('k4'), rangeEnd: b('k4') }), []);
    assert.equal(ts.store.range({ key: b('k4'), rangeEnd: b('k2') }).count, 0n);
  } finally { await ts.cleanup(); }
});

test('limit sets more; count ignores the limit', async () => {
  const ts = tempStore();
  try {
    await seed(ts.store);
    let r = ts.store.range({ key: b('k'), rangeEnd: b('l'), limit: 2n });
    assert.deepEqual([r.kvs.map((kv) => s(kv.key)), r.more, r.count], [['k1', 'k2'], true, 5n]);
    r = ts.store.range({ key: b('k'), rangeEnd: b('l'), limit: 5n });
    assert.deepEqual([r.kvs.length, r.more, r.count], [5, false, 5n]);
    r = ts.store.range({ key: b('k'), rangeEnd: b('l'), limit: 4n, revision: 5n });
    assert.deepEqual([r.kvs.map((kv) => s(kv.key)), r.more, r.count], [['k1', 'k2', 'k3', 'k4'], false, 4n]);
    r = ts.store.range({ key: b('k'), rangeEnd: b('l'), limit: 2n, revision: 5n });
    assert.deepEqual([r.kvs.length, r.more, r.count], [2, true, 4n]);
  } finally { await ts.cleanup(); }
});

test('count_only returns no kvs and the count; keys_only empties values', async () => {
  const ts = tempStore();
  try {
    await seed(ts.store);
    let r = ts.store.range({ key: b('k'), rangeEnd: b('l'), countOnly: true, limit: 1n });
    assert.deepEqual([r.kvs.length, r.more, r.count], [0, false, 5n]);
    r = ts.store.range({ key: b('k'), rangeEnd: b('l'), countOnly: true, revision: 3n });
    assert.deepEqual([r.kvs.length, r.count], [0, 2n]);
    r = ts.store.range({ key: b('k'), rangeEnd: b('l'), keysOnly: true });
    assert.deepEqual(r.kvs.map((kv) => [s(kv.key), kv.value.length, kv.version]),
      [['k1', 0, 1n], ['k2', 0, 3n], ['k3', 0, 1n], ['k4', 0, 2n], ['k5', 0, 1n]]);
  } finally { await ts.cleanup(); }
});

test('sort by each target and order, before the limit', async () => {
  const ts = tempStore();
  try {
    await seed(ts.store);
    const q = (sortTarget: never, sortOrder: never, limit = 0n) =>
      keysOf(ts.store, { key: b('k'), rangeEnd: b('l'), sortTarget, sortOrder, limit });
    assert.deepEqual(q('KEY' as never, 'DESCEND' as never), ['k5', 'k4', 'k3', 'k2', 'k1']);
    assert.deepEqual(q('VALUE' as never, 'ASCEND' as never), ['k5', 'k4', 'k3', 'k2', 'k1']);
    assert.deepEqual(q('VALUE' as never, 'DESCEND' as never, 2n), ['k1', 'k2']);
    assert.deepEqual(q('VERSION' as never, 'DESCEND' as never, 2n), ['k2', 'k4']);
    assert.deepEqual(q('MOD' as never, 'DESCEND' as never, 3n), ['k4', 'k2', 'k5']);
    assert.deepEqual(q('CREATE' as never, 'DESCEND' as never), ['k5', 'k4', 'k3', 'k2', 'k1']);
    // sort_order NONE with a target other than KEY sorts ascending (etcd)
    assert.deepEqual(q('MOD' as never, 'NONE' as never), ['k1', 'k3', 'k5', 'k2', 'k4']);
    const r = ts.store.range({ key: b('k'), rangeEnd: b('l'), sortTarget: 'VALUE', sortOrder: 'ASCEND', keysOnly: true, limit: 1n });
    assert.deepEqual([s(r.kvs[0].key), r.kvs[0].value.length, r.more], ['k5', 0, true]);
  } finally { await ts.cleanup(); }
});

test('etcd quirk: sort_order NONE with target MOD sorts only the limit + 1 keys read in key order', async () => {
  const ts = tempStore();
  try {
    await seed(ts.store);
    // reads k1,k2,k3 (limit 2 + 1) in key order, sorts them by mod (k1=2, k3=4, k2=8), truncates to 2
    const r = ts.store.range({ key: b('k'), rangeEnd: b('l'), sortTarget: 'MOD', limit: 2n });
    assert.deepEqual([r.kvs.map((kv) => s(kv.key)), r.more], [['k1', 'k3'], true]);
  } finally { await ts.cleanup(); }
});

test('min/max mod and create revision filters; count ignores them', async () => {
  const ts = tempStore();
  try {
    await seed(ts.store);
    const q = (f: object) => ts.store.range({ key: b('k'), rangeEnd: b('l'), ...f });
    let r = q({ minModRevision: 5n });
    assert.deepEqual([r.kvs.map((kv) => s(kv.key)), r.count], [['k2', 'k4', 'k5'], 5n]);
    r = q({ maxModRevision: 5n });
    assert.deepEqual(r.kvs.map((kv) => s(kv.key)), ['k1', 'k3']);
    r = q({ minCreateRevision: 3n, maxCreateRevision: 5n });
    assert.deepEqual(r.kvs.map((kv) => s(kv.key)), ['k2', 'k3', 'k4']);
    r = q({ minCreateRevision: 3n, limit: 2n });
    assert.deepEqual([r.kvs.map((kv) => s(kv.key)), r.more, r.count], [['k2', 'k3'], true, 5n]);
    r = q({ minModRevision: 8n, limit: 2n });
    assert.deepEqual([r.kvs.map((kv) => s(kv.key)), r.more], [['k2', 'k4'], false]);
  } finally { await ts.cleanup(); }
});

test('revision bounds: future revision fails, current works, 0 means current', async () => {
  const ts = tempStore();
  try {
    await seed(ts.store);
    assert.throws(() => ts.store.range({ key: b('k1'), revision: 11n }), { kind: 'FutureRev' });
    assert.equal(ts.store.range({ key: b('k1'), revision: 10n }).count, 1n);
    assert.equal(ts.store.range({ key: b('k1'), revision: 1n }).count, 0n);
    await del(ts.store, 'k1');
    assert.equal(ts.store.range({ key: b('k1'), revision: 10n }).count, 1n);
    assert.equal(ts.store.range({ key: b('k1') }).count, 0n);
  } finally { await ts.cleanup(); }
});

test('historical range merges live and deleted keys in key order', async () => {
  const ts = tempStore();
  try {
    for (const k of ['a', 'b', 'c', 'd', 'e']) await put(ts.store, k, k + '1'); // 2..6
    await del(ts.store, 'b'); // 7
    await del(ts.store, 'd'); // 8
    await put(ts.store, 'c', 'c2'); // 9
    const r = ts.store.range({ key: b('a'), rangeEnd: b('z'), revision: 6n });
    assert.deepEqual(r.kvs.map((kv) => `${s(kv.key)}=${s(kv.value)}`), ['a=a1', 'b=b1', 'c=c1', 'd=d1', 'e=e1']);
    const r2 = ts.store.range({ key: b('a'), rangeEnd: b('z'), revision: 7n, limit: 2n });
    assert.deepEqual([r2.kvs.map((kv) => s(kv.key)), r2.more, r2.count], [['a', 'c'], true, 4n]);
    assert.deepEqual(keysOf(ts.store, { key: b('a'), rangeEnd: b('z') }), ['a', 'c', 'e']);
  } finally { await ts.cleanup(); }
});
