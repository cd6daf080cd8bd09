import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { tempStore, put, del, b, s, apply1, opPut } from './helpers.js';
import { MvccStore } from '../../src/mvcc/store.js';
import type { Event } from '../../src/mvcc/types.js';

const brief = (e: Event) => [e.type, s(e.kv.key), e.kv.modRevision, e.type === 'PUT' ? s(e.kv.value) : '', e.prevKv ? s(e.prevKv.value) : null];

test('the events of each write: put, overwrite with prevKv, delete, txn', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    assert.deepEqual((await apply1(st, { put: { key: b('a'), value: b('1') } })).events.map(brief), [['PUT', 'a', 2n, '1', null]]);
    assert.deepEqual((await apply1(st, { put: { key: b('a'), value: b('2') } })).events.map(brief), [['PUT', 'a', 3n, '2', '1']]);
    assert.deepEqual((await apply1(st, { deleteRange: { key: b('a') } })).events.map(brief), [['DELETE', 'a', 4n, '', '2']]);
    const t = await apply1(st, { txn: { compare: [], success: [opPut('x', '1'), opPut('y', '1')], failure: [] } });
    assert.deepEqual(t.events.map(brief), [['PUT', 'x', 5n, '1', null], ['PUT', 'y', 5n, '1', null]]);
  } finally { await ts.cleanup(); }
});

test('eventsSince replays history in revision order with prevKv, equal to the live events', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    const live: Event[] = [];
    const writes = [
      { put: { key: b('a'), value: b('1') } },
      { put: { key: b('b'), value: b('1') } },
      { put: { key: b('a'), value: b('2') } },
      { deleteRange: { key: b('a'), rangeEnd: b('c') } },
      { txn: { compare: [], success: [opPut('a', '3'), opPut('c', '1')], failure: [] } },
    ];
    for (const w of writes) live.push(...(await apply1(st, w as never)).events);
    const replay = st.eventsSince(2n, 100);
    assert.deepEqual(replay.events.map(brief), live.map(brief));
    assert.equal(replay.nextRevision, 7n);
    assert.deepEqual(st.eventsSince(5n, 100).events.map(brief), [['DELETE', 'a', 5n, '', '2'], ['DELETE', 'b', 5n, '', '1'], ['PUT', 'a', 6n, '3', null], ['PUT', 'c', 6n, '1', null]]);
    assert.deepEqual(st.eventsSince(7n, 100), { events: [], nextRevision: 7n });
  } finally { await ts.cleanup(); }
});

test('eventsSince pages end at revision boundaries', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    await put(st, 'a', '1');                                            // 2
    await apply1(st, { txn: { compare: [], success: [opPut('x', '1'), opPut('y', '1'), opPut('z', '1')], failure: [] } }); // 3
    await put(st, 'b', '1');                                            // 4
    let page = st.eventsSince(1n, 2);
    assert.deepEqual([page.events.map((e) => s(e.kv.key)), page.nextRevision], [['a', 'x', 'y', 'z'], 4n]);
    page = st.eventsSince(page.nextRevision, 2);
    assert.deepEqual([page.events.map((e) => s(e.kv.key)), page.nextRevision], [['b'], 5n]);
    page = st.eventsSince(2n, 1);
    assert.deepEqual([page.events.map((e) => s(e.kv.key)), page.nextRevision], [['a'], 3n]);
  } finally { await ts.cleanup(); }
});

test('keysOfLease follows attach, move, detach and delete', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    const leases = [1n, 2n, 0x7fff_ffff_ffff_ffffn];
    const p = (k: string, lease: bigint) => apply1(st, { put: { key: b(k), value: b('v'), lease } }, leases);
    await p('a', 1n); await p('b', 1n); await p('c', 2n); await p('d', 0x7fff_ffff_ffff_ffffn);
    const keys = (l: bigint) => st.keysOfLease(l).map(s);
    assert.deepEqual([keys(1n), keys(2n), keys(0x7fff_ffff_ffff_ffffn), keys(3n)], [['a', 'b'], ['c'], ['d'], []]);
    await p('a', 2n);
    await p('b', 0n);
    await del(st, 'c');
    assert.deepEqual([keys(1n), keys(2n)], [[], ['a']]);
    await apply1(st, { put: { key: b('a'), value: b('w'), ignoreLease: true } }, leases);
    assert.deepEqual(keys(2n), ['a']);
    assert.equal(st.tableCounts().leaseAttachments, 2);
  } finally { await ts.cleanup(); }
});

test('reopen after close keeps data, revision, compact revision and applied index', async () => {
  const ts = tempStore();
  try {
    await ts.store.applyBatch([{ put: { key: b('a'), value: b('1') } }, { put: { key: b('a'), value: b('2') } }], { appliedIndex: 7n });
    await ts.store.applyBatch([{ compaction: { revision: 2n } }, { deleteRange: { key: b('zz') } }], { appliedIndex: 9n });
    await ts.store.sync();
    const st = await ts.reopen();
    assert.deepEqual([st.currentRevision, st.compactRevision, st.appliedIndex], [3n, 2n, 9n]);
    assert.equal(s(st.range({ key: b('a') }).kvs[0].value), '2');
    assert.equal(s(st.range({ key: b('a'), revision: 2n }).kvs[0].value), '1');
    assert.throws(() => st.range({ key: b('a'), revision: 1n }), { kind: 'Compacted' });
    await put(st, 'b', '1');
    assert.equal(st.currentRevision, 4n);
  } finally { await ts.cleanup(); }
});

test('a data dir with an unknown layout version is refused with a clear message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-mvcc-test-'));
  try {
    const env = open({ path: dir, maxDbs: 32 });
    const meta = env.openDB<Buffer, Buffer>({ name: 'mvcc.meta', keyEncoding: 'binary', encoding: 'binary' });
    const v = Buffer.alloc(8); v.writeBigUInt64BE(99n);
    env.transactionSync(() => { meta.put(Buffer.from('layoutVersion'), v); });
    await env.close();
    assert.throws(() => MvccStore.open({ dir }), /layout version 99; this Cairn reads layout version 2/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('sync resolves after an fsync, and concurrent callers share it', async () => {
  const ts = tempStore();
  try {
    await put(ts.store, 'a', '1');
    await Promise.all([ts.store.sync(), ts.store.sync(), ts.store.sync()]);
    await ts.store.sync();
    assert.ok(ts.store.dbSizeBytes() > 0);
    assert.ok(ts.store.dbSizeInUseBytes() > 0 && ts.store.dbSizeInUseBytes() <= ts.store.dbSizeBytes());
  } finally { await ts.cleanup(); }
});

test('a closed store refuses work', async () => {
  const ts = tempStore();
  await ts.cleanup();
  assert.throws(() => ts.store.range({ key: b('a') }), { kind: 'Stopped' });
  await assert.rejects(ts.store.applyBatch([]), { kind: 'Stopped' });
});
