import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempStore, put, get, del, b, s, apply1, errorKind } from './helpers.js';
import { MAX_KEY_BYTES_LIMIT } from '../../src/mvcc/store.js';

test('a fresh store reports revision 1 and the first write takes revision 2 (as etcd)', async () => {
  const ts = tempStore();
  try {
    assert.equal(ts.store.currentRevision, 1n);
    assert.equal(ts.store.compactRevision, 0n);
    assert.equal(ts.store.appliedIndex, 0n);
    const o = await put(ts.store, 'a', '1');
    assert.deepEqual(o.ok && o.revision, 2n);
    assert.equal(ts.store.currentRevision, 2n);
  } finally { await ts.cleanup(); }
});

test('versions count puts; create revision stays; delete then re-create restarts at version 1', async () => {
  const ts = tempStore();
  try {
    await put(ts.store, 'k', 'v1'); // rev 2
    await put(ts.store, 'k', 'v2'); // rev 3
    let kv = get(ts.store, 'k')!;
    assert.deepEqual([kv.createRevision, kv.modRevision, kv.version, s(kv.value)], [2n, 3n, 2n, 'v2']);
    await del(ts.store, 'k'); // rev 4
    assert.equal(get(ts.store, 'k'), undefined);
    await put(ts.store, 'k', 'v3'); // rev 5
    kv = get(ts.store, 'k')!;
    assert.deepEqual([kv.createRevision, kv.modRevision, kv.version, s(kv.value)], [5n, 5n, 1n, 'v3']);
  } finally { await ts.cleanup(); }
});

test('a put that changes nothing still takes a revision; a delete of nothing does not', async () => {
  const ts = tempStore();
  try {
    await put(ts.store, 'k', 'same');
    const o = await put(ts.store, 'k', 'same');
    assert.equal(o.revision, 3n);
    const d = await del(ts.store, 'absent');
    assert.ok(d.ok);
    assert.equal(d.revision, 3n);
    assert.deepEqual(d.ok && d.result, { deleteRange: { deleted: 0n, prevKvs: [] } });
    assert.equal(ts.store.currentRevision, 3n);
  } finally { await ts.cleanup(); }
});

test('history: every key read at every revision of a scripted sequence', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    await put(st, 'a', 'a1');          // 2
    await put(st, 'b', 'b1');          // 3
    await put(st, 'a', 'a2');          // 4
    await del(st, 'a');                // 5
    await put(st, 'c', 'c1');          // 6
    await put(st, 'a', 'a3');          // 7
    await del(st, 'b', 'd');           // 8: deletes b and c, subs 0 and 1
    await put(st, 'b', 'b2');          // 9
    const expected: Record<number, Record<string, string | undefined>> = {
      1: {}, 2: { a: 'a1' }, 3: { a: 'a1', b: 'b1' }, 4: { a: 'a2', b: 'b1' }, 5: { b: 'b1' },
      6: { b: 'b1', c: 'c1' }, 7: { a: 'a3', b: 'b1', c: 'c1' }, 8: { a: 'a3' }, 9: { a: 'a3', b: 'b2' },
    };
    for (let rev = 1; rev <= 9; rev++) {
      for (const k of ['a', 'b', 'c']) {
        const kv = get(st, k, BigInt(rev));
        assert.equal(kv && s(kv.value), expected[rev][k], `key ${k} at ${rev}`);
      }
      const all = st.range({ key: b('\0'), rangeEnd: b('\0'), revision: BigInt(rev) });
      assert.deepEqual(all.kvs.map((kv) => `${s(kv.key)}=${s(kv.value)}`),
        Object.entries(expected[rev]).map(([k, v]) => `${k}=${v}`), `all keys at ${rev}`);
      assert.equal(all.count, BigInt(Object.keys(expected[rev]).length));
    }
    const a7 = get(st, 'a', 7n)!;
    assert.deepEqual([a7.createRevision, a7.modRevision, a7.version], [7n, 7n, 1n]);
    const a4 = get(st, 'a', 4n)!;
    assert.deepEqual([a4.createRevision, a4.modRevision, a4.version], [2n, 4n, 2n]);
  } finally { await ts.cleanup(); }
});

test('delete range: each deleted key takes its own sub revision under one main revision', async () => {
  const ts = tempStore();
  try {
    for (const k of ['a', 'b', 'c', 'd']) await put(ts.store, k, k);
    const { outcome, events } = await apply1(ts.store, { deleteRange: { key: b('b'), rangeEnd: b('d'), prevKv: true } });
    assert.ok(outcome.ok);
    assert.equal(outcome.revision, 6n);
    const r = outcome.ok && 'deleteRange' in outcome.result ? outcome.result.deleteRange : undefined;
    assert.equal(r?.deleted, 2n);
    assert.deepEqual(r?.prevKvs.map((kv) => s(kv.value)), ['b', 'c']);
    assert.deepEqual(events.map((e) => [e.type, s(e.kv.key), e.kv.modRevision, e.kv.version, e.kv.createRevision, e.kv.value.length]),
      [['DELETE', 'b', 6n, 0n, 0n, 0], ['DELETE', 'c', 6n, 0n, 0n, 0]]);
    assert.deepEqual(events.map((e) => e.prevKv && s(e.prevKv.value)), ['b', 'c']);
    assert.deepEqual(ts.store.range({ key: b('a'), rangeEnd: b('z') }).kvs.map((kv) => s(kv.key)), ['a', 'd']);
  } finally { await ts.cleanup(); }
});

test('delete from key ([0x00] end) and delete of every key', async () => {
  const ts = tempStore();
  try {
    for (const k of ['a', 'b', 'c']) await put(ts.store, k, k);
    let o = await del(ts.store, 'b', '\0');
    assert.deepEqual(o.ok && o.result, { deleteRange: { deleted: 2n, prevKvs: [] } });
    o = await del(ts.store, '\0', '\0');
    assert.deepEqual(o.ok && o.result, { deleteRange: { deleted: 1n, prevKvs: [] } });
    assert.equal(ts.store.range({ key: b('\0'), rangeEnd: b('\0') }).count, 0n);
  } finally { await ts.cleanup(); }
});

test('put options: prevKv, ignoreValue, ignoreLease and their errors', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    const leases = [7n, 8n];
    let r = await apply1(st, { put: { key: b('k'), value: b('v1'), lease: 7n, prevKv: true } }, leases);
    assert.deepEqual(r.outcome.ok && r.outcome.result, { put: {} });
    r = await apply1(st, { put: { key: b('k'), value: b(''), ignoreValue: true, lease: 8n, prevKv: true } }, leases);
    const prev = r.outcome.ok && 'put' in r.outcome.result ? r.outcome.result.put.prevKv : undefined;
    assert.equal(prev && s(prev.value), 'v1');
    assert.equal(prev?.lease, 7n);
    let kv = get(st, 'k')!;
    assert.deepEqual([s(kv.value), kv.lease, kv.version], ['v1', 8n, 2n]);
    await apply1(st, { put: { key: b('k'), value: b('v3'), ignoreLease: true } }, leases);
    kv = get(st, 'k')!;
    assert.deepEqual([s(kv.value), kv.lease], ['v3', 8n]);
    await apply1(st, { put: { key: b('k'), value: b('v4') } }, leases);
    assert.equal(get(st, 'k')!.lease, 0n, 'a put without lease detaches the key');
    const rev = st.currentRevision;
    const cases: Array<[object, string]> = [
      [{ key: b('absent'), value: b(''), ignoreValue: true }, 'KeyNotFound'],
      [{ key: b('absent'), value: b('x'), ignoreLease: true }, 'KeyNotFound'],
      [{ key: b('k'), value: b('x'), ignoreValue: true }, 'ValueProvided'],
      [{ key: b('k'), value: b('x'), ignoreLease: true, lease: 7n }, 'LeaseProvided'],
      [{ key: b('k'), value: b('x'), lease: 99n }, 'LeaseNotFound'],
      [{ key: b(''), value: b('x') }, 'EmptyKey'],
    ];
    for (const [req, kind] of cases) {
      const { outcome, events } = await apply1(st, { put: req as never }, leases);
      assert.equal(errorKind(outcome), kind);
      assert.equal(outcome.revision, rev);
      assert.deepEqual(events, []);
    }
    const noCallback = await st.applyBatch([{ put: { key: b('k'), value: b('x'), lease: 7n } }]);
    assert.equal(errorKind(noCallback.outcomes[0]), 'LeaseNotFound', 'no leaseExists callback: every lease is unknown');
    assert.equal(st.currentRevision, rev);
  } finally { await ts.cleanup(); }
});

test('empty keys are refused for range, put and delete', async () => {
  const ts = tempStore();
  try {
    assert.throws(() => ts.store.range({ key: b('') }), { kind: 'EmptyKey' });
    assert.equal(errorKind(await del(ts.store, '')), 'EmptyKey');
    assert.equal(errorKind(await put(ts.store, '', 'x')), 'EmptyKey');
  } finally { await ts.cleanup(); }
});

test('keys up to the documented limit work; longer keys fail with KeyTooLarge naming the limit', async () => {
  const ts = tempStore();
  try {
    const longest = 'k'.repeat(MAX_KEY_BYTES_LIMIT);
    assert.ok((await put(ts.store, longest, 'v')).ok);
    assert.equal(s(get(ts.store, longest)!.value), 'v');
    const o = await put(ts.store, longest + 'x', 'v');
    assert.equal(errorKind(o), 'KeyTooLarge');
    assert.match(!o.ok ? o.error.message : '', new RegExp(`${MAX_KEY_BYTES_LIMIT} bytes`));
    assert.throws(() => ts.store.range({ key: b(longest + 'x') }), { kind: 'KeyTooLarge' });
    const small = tempStore({ maxKeyBytes: 10 });
    try {
      assert.equal(errorKind(await put(small.store, 'x'.repeat(11), 'v')), 'KeyTooLarge');
    } finally { await small.cleanup(); }
  } finally { await ts.cleanup(); }
});

test('values of 1.5 MiB round-trip, also from history', async () => {
  const ts = tempStore();
  try {
    const big = Buffer.alloc(1.5 * 1024 * 1024, 0xab);
    await apply1(ts.store, { put: { key: b('big'), value: big } });
    await put(ts.store, 'big', 'small');
    assert.ok(Buffer.from(get(ts.store, 'big', 2n)!.value).equals(big));
    assert.equal(s(get(ts.store, 'big')!.value), 'small');
  } finally { await ts.cleanup(); }
});

test('a batch applies its writes in order and each outcome carries its revision', async () => {
  const ts = tempStore();
  try {
    const { outcomes, events } = await ts.store.applyBatch([
      { put: { key: b('a'), value: b('1') } },
      { put: { key: b(''), value: b('bad') } },
      { deleteRange: { key: b('zzz') } },
      { put: { key: b('a'), value: b('2') } },
    ], { appliedIndex: 42n });
    assert.deepEqual(outcomes.map((o) => [o.ok, o.revision]), [[true, 2n], [false, 2n], [true, 2n], [true, 3n]]);
    assert.equal(events.length, 2);
    assert.equal(ts.store.appliedIndex, 42n);
  } finally { await ts.cleanup(); }
});

test('inTxn runs in the same transaction: when it throws, nothing of the batch is applied', async () => {
  const ts = tempStore();
  try {
    await assert.rejects(ts.store.applyBatch([{ put: { key: b('a'), value: b('1') } }], {
      appliedIndex: 5n,
      inTxn: () => { throw new Error('lease table write failed'); },
    }), /lease table write failed/);
    assert.equal(ts.store.currentRevision, 1n);
    assert.equal(ts.store.appliedIndex, 0n);
    assert.equal(get(ts.store, 'a'), undefined);
    let sawWrite = false;
    await ts.store.applyBatch([{ put: { key: b('a'), value: b('1') } }], {
      inTxn: () => { sawWrite = ts.store.env.openDB({ name: 'mvcc.latest', keyEncoding: 'binary', encoding: 'binary' }).get(b('a')) !== undefined; },
    });
    assert.ok(sawWrite, 'inTxn sees the batch writes');
  } finally { await ts.cleanup(); }
});

test('a key with a long history reads right at every revision (chain of previous changes)', async () => {
  const ts = tempStore();
  try {
    for (let i = 0; i < 60; i++) {
      await put(ts.store, 'hot', `v${i}`);              // revisions 2 + 2i
      if (i % 7 === 3) await del(ts.store, 'hot');       // some deletes in between
      else await put(ts.store, `other${i}`, 'x');
    }
    let expected: string | undefined;
    let version = 0n;
    const ev = ts.store.eventsSince(2n, 1000).events;
    const byRev = new Map(ev.map((e) => [e.kv.modRevision, e]));
    for (let rev = 2n; rev <= ts.store.currentRevision; rev++) {
      const e = byRev.get(rev);
      if (e && s(e.kv.key) === 'hot') {
        if (e.type === 'PUT') { expected = s(e.kv.value); version = e.kv.version; } else { expected = undefined; }
      }
      const kv = get(ts.store, 'hot', rev);
      assert.equal(kv && s(kv.value), expected, `at ${rev}`);
      if (kv) assert.equal(kv.version, version);
    }
  } finally { await ts.cleanup(); }
});
