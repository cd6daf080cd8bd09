/**
 * Replacing a store's data file (Raft snapshot install, defragment): copyTo makes a consistent
 * copy, replaceWith swaps it in and reopens; tables from openTable stay usable across the swap;
 * counters (revision, compact revision, applied index) come from the new file.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { MvccStore } from '../../src/mvcc/store.js';
import { WRITE_TXN_FLAGS } from '../../src/mvcc/tables.js';
import { b, s, tempStore } from './helpers.js';

describe('mvcc: copy and replace the data file', () => {
  it('a copy of another store replaces this one, with its counters and server tables', async () => {
    const leader = tempStore();
    const follower = tempStore();
    try {
      const lt = leader.store.openTable('server.test');
      const ft = follower.store.openTable('server.test');
      for (let i = 0; i < 50; i++) {
        await leader.store.applyBatch([{ put: { key: b(`k${i}`), value: b(`v${i}`) } }], {
          appliedIndex: BigInt(i + 10), inTxn: () => { void lt.put(b(`t${i}`), b('x')); },
        });
      }
      await leader.store.applyBatch([{ compaction: { revision: 20n, physical: false } }], { appliedIndex: 70n });
      await leader.store.compactionSettled();
      await follower.store.applyBatch([{ put: { key: b('old'), value: b('gone') } }], {
        appliedIndex: 3n, inTxn: () => { void ft.put(b('stale'), b('y')); },
      });

      const copyDir = join(follower.dir, 'incoming');
      await leader.store.copyTo(copyDir, false);
      await follower.store.replaceWith(copyDir);
      assert.equal(existsSync(copyDir), false, 'the copy dir is consumed');

      const f = follower.store;
      assert.equal(f.currentRevision, leader.store.currentRevision);
      assert.equal(f.compactRevision, 20n);
      assert.equal(f.appliedIndex, 70n);
      assert.equal(f.range({ key: b('old') }).kvs.length, 0);
      assert.equal(s(f.range({ key: b('k49') }).kvs[0].value), 'v49');
      assert.deepEqual(f.hashKV(0n), leader.store.hashKV(0n));
      // The handle taken before the swap reads the new file's table...
      assert.equal(ft.get(b('stale')), undefined);
      assert.equal(s(ft.get(b('t7'))!), 'x');
      // ...and writes go to the new file too, and survive a reopen.
      await f.applyBatch([{ put: { key: b('after'), value: b('swap') } }], { appliedIndex: 71n, inTxn: () => { void ft.put(b('new'), b('z')); } });
      const reopened = await follower.reopen();
      assert.equal(s(reopened.range({ key: b('after') }).kvs[0].value), 'swap');
      assert.equal(reopened.appliedIndex, 71n);
      assert.equal(s(reopened.openTable('server.test').get(b('new'))!), 'z');
    } finally {
      await leader.cleanup();
      await follower.cleanup();
    }
  });

  it('a compacted copy swapped in shrinks the file (defragment) and keeps every key', async () => {
    const t = tempStore();
    try {
      const big = Buffer.alloc(4000, 1);
      for (let i = 0; i < 400; i++) await t.store.applyBatch([{ put: { key: b(`k${i}`), value: big } }], { appliedIndex: BigInt(i + 1) });
      for (let i = 0; i < 400; i += 2) await t.store.applyBatch([{ deleteRange: { key: b(`k${i}`) } }], { appliedIndex: BigInt(401 + i) });
      await t.store.applyBatch([{ compaction: { revision: t.store.currentRevision, physical: true } }], { appliedIndex: 1000n });
      await t.store.compactionSettled();
      const before = t.store.dbSizeBytes();
      const hash = t.store.hashKV(0n).hash;
      await t.store.copyTo(join(t.dir, 'defrag'), true);
      await t.store.replaceWith(join(t.dir, 'defrag'));
      assert.ok(t.store.dbSizeBytes() < before * 0.7, `size ${t.store.dbSizeBytes()} not below 70% of ${before}`);
      assert.equal(t.store.hashKV(0n).hash, hash);
      assert.equal(t.store.range({ key: b('k'), rangeEnd: b('l'), countOnly: true }).count, 200n);
    } finally {
      await t.cleanup();
    }
  });

  it('refuses reserved table names and a missing source', async () => {
    const t = tempStore();
    try {
      assert.throws(() => t.store.openTable('mvcc.latest'), /reserved/);
      await assert.rejects(t.store.replaceWith(join(t.dir, 'nothing-here')), /ENOENT/);
      assert.equal(t.store.range({ key: b('x') }).kvs.length, 0, 'still serving');
      t.store.env.transactionSync(() => undefined, WRITE_TXN_FLAGS);
      assert.ok(t.store instanceof MvccStore);
    } finally {
      await t.cleanup();
    }
  });
});
