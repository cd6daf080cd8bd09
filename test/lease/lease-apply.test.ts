import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Lessor } from '../../src/lease/lessor.js';
import { MemoryLeaseTable } from '../../src/lease/lease-record.js';
import { applyServerBatch } from '../../src/server/lease-apply.js';
import type { ServerRequest } from '../../src/server/requests.js';
import { FakeStore } from './fake-store.js';

const k = (s: string) => Buffer.from(s);
const put = (key: string, lease = 0n): ServerRequest => ({ put: { key: k(key), value: k('v'), lease } });
const grant = (id: bigint, ttlSec = 10n): ServerRequest => ({ leaseGrant: { id, ttlSec } });
const revoke = (id: bigint): ServerRequest => ({ leaseRevoke: { id } });

function setup() {
  const store = new FakeStore();
  const lessor = new Lessor({ minTtlSec: 2n, nowMs: () => 0 });
  lessor.promote(0);
  const table = new MemoryLeaseTable();
  const apply = (reqs: ServerRequest[]) => applyServerBatch(store, lessor, table, reqs, 1n);
  return { store, lessor, table, apply };
}

const errKind = (o: { ok: boolean; error?: Error }) => (o.ok ? 'ok' : (o.error as { kind?: string }).kind);

describe('applying lease requests with key-space writes', () => {
  it('grant bumps no revision and is persisted with its effective TTL', async () => {
    const { store, table, apply } = setup();
    const before = store.currentRevision;
    const { outcomes } = await apply([grant(5n, 1n)]);
    assert.equal(store.currentRevision, before);
    assert.deepEqual(outcomes[0], { ok: true, result: { leaseGrant: { id: 5n, ttlSec: 2n } }, revision: before });
    assert.deepEqual(table.loadAll(), [{ id: 5n, ttlSec: 2n, remainingTtlSec: 0n }]);
  });

  it('revoke deletes every attached key at one revision with one DELETE event per key', async () => {
    const { store, table, apply } = setup();
    await apply([grant(5n), put('a', 5n), put('b', 5n), put('c')]);
    const rev = store.currentRevision;
    const { outcomes, events } = await apply([revoke(5n)]);
    assert.equal(outcomes[0].ok, true);
    assert.equal(outcomes[0].revision, rev + 1n);
    assert.deepEqual(events.map((e) => [e.type, Buffer.from(e.kv.key).toString(), e.kv.modRevision]), [
      ['DELETE', 'a', rev + 1n], ['DELETE', 'b', rev + 1n],
    ]);
    assert.ok(store.latest.has(Buffer.from('c').toString('hex')));
    assert.deepEqual(table.loadAll(), []);
  });

  it('revoke of a lease without keys bumps nothing; of an unknown lease fails with lease not found', async () => {
    const { store, apply } = setup();
    await apply([grant(5n)]);
    const rev = store.currentRevision;
    const { outcomes } = await apply([revoke(5n), revoke(5n), revoke(6n)]);
    assert.deepEqual(outcomes.map(errKind), ['ok', 'LeaseNotFound', 'LeaseNotFound']);
    assert.equal(store.currentRevision, rev);
    assert.equal(outcomes[0].revision, rev);
  });

  it('within one batch a put sees a grant before it and not one after it', async () => {
    const { apply } = setup();
    const { outcomes } = await apply([put('x', 7n), grant(7n), put('y', 7n)]);
    assert.deepEqual(outcomes.map(errKind), ['LeaseNotFound', 'ok', 'ok']);
  });

  it('within one batch a revoke deletes keys attached just before it, and a later put naming it fails', async () => {
    const { store, apply } = setup();
    const { outcomes, events } = await apply([grant(7n), put('x', 7n), revoke(7n), put('y', 7n), put('z')]);
    assert.deepEqual(outcomes.map(errKind), ['ok', 'ok', 'ok', 'LeaseNotFound', 'ok']);
    assert.deepEqual(events.map((e) => `${e.type} ${Buffer.from(e.kv.key)}`), ['PUT x', 'DELETE x', 'PUT z']);
    assert.equal(store.latest.has(Buffer.from('x').toString('hex')), false);
  });

  it('a key moved to another lease in the batch is not deleted by the old lease\'s revoke', async () => {
    const { store, apply } = setup();
    await apply([grant(1n), grant(2n), put('m', 1n)]);
    const { events } = await apply([put('m', 2n), revoke(1n)]);
    assert.deepEqual(events.map((e) => e.type), ['PUT']);
    assert.equal(store.latest.get(Buffer.from('m').toString('hex'))?.lease, 2n);
  });

  it('a run of revokes (an expiry batch) goes to the store in one transaction', async () => {
    const { store, apply } = setup();
    const reqs: ServerRequest[] = [];
    for (let i = 1n; i <= 50n; i++) reqs.push(grant(i), put(`k${i}`, i));
    await apply(reqs);
    store.applyCalls = 0;
    const rev = store.currentRevision;
    const { outcomes } = await apply(Array.from({ length: 50 }, (_, i) => revoke(BigInt(i + 1))));
    assert.equal(store.applyCalls, 1);
    assert.deepEqual(outcomes.map((o) => o.revision), Array.from({ length: 50 }, (_, i) => rev + BigInt(i + 1)));
  });

  it('checkpoints update the persisted remaining TTL without bumping the revision', async () => {
    const { store, table, apply } = setup();
    await apply([grant(3n, 100n)]);
    const rev = store.currentRevision;
    const { outcomes } = await apply([{ leaseCheckpoint: { checkpoints: [{ id: 3n, remainingTtlSec: 40n }, { id: 99n, remainingTtlSec: 1n }] } }]);
    assert.equal(outcomes[0].ok, true);
    assert.equal(store.currentRevision, rev);
    assert.deepEqual(table.loadAll(), [{ id: 3n, ttlSec: 100n, remainingTtlSec: 40n }]);
  });

  it('a grant\'s header revision is that of the writes before it in the batch', async () => {
    const { store, apply } = setup();
    const start = store.currentRevision;
    const { outcomes } = await apply([put('a'), put('b'), grant(4n), put('c')]);
    assert.deepEqual(outcomes.map((o) => o.revision), [start + 1n, start + 2n, start + 2n, start + 3n]);
  });
});

describe('applying on the real store: one LMDB transaction per batch', () => {
  it('reads its own earlier runs, persists lease records, and records the applied index even for grants only', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { MvccStore } = await import('../../src/mvcc/store.js');
    const { WRITE_TXN_FLAGS } = await import('../../src/mvcc/tables.js');
    const { LmdbLeaseTable, LEASE_TABLE_NAME } = await import('../../src/server/lease-table-lmdb.js');
    const dir = mkdtempSync(join(tmpdir(), 'lease-apply-'));
    let store = MvccStore.open({ dir });
    try {
      let outer = 0;
      const transaction = <T>(fn: () => T): T => { outer++; return store.env.transactionSync(fn, WRITE_TXN_FLAGS) as T; };
      const lessor = new Lessor({ minTtlSec: 2n, nowMs: () => 0 });
      const table = new LmdbLeaseTable(store.openTable(LEASE_TABLE_NAME));
      const r1 = await applyServerBatch(store, lessor, table, [grant(9n)], 3n, transaction);
      assert.equal(r1.outcomes[0].ok, true);
      assert.equal(store.appliedIndex, 3n);
      const r2 = await applyServerBatch(store, lessor, table, [put('a', 9n), put('b', 9n), revoke(9n), grant(10n), put('c', 10n)], 4n, transaction);
      assert.deepEqual(r2.outcomes.map(errKind), ['ok', 'ok', 'ok', 'ok', 'ok']);
      assert.deepEqual(r2.events.map((e) => `${e.type} ${Buffer.from(e.kv.key)}`), ['PUT a', 'PUT b', 'DELETE a', 'DELETE b', 'PUT c']);
      assert.equal(outer, 2, 'one outer transaction per batch');
      assert.equal(store.appliedIndex, 4n);
      await store.close();
      store = MvccStore.open({ dir });
      assert.deepEqual(new LmdbLeaseTable(store.openTable(LEASE_TABLE_NAME)).loadAll(), [{ id: 10n, ttlSec: 10n, remainingTtlSec: 0n }]);
      assert.deepEqual(store.keysOfLease(10n).map((k) => Buffer.from(k).toString()), ['c']);
      assert.equal(store.appliedIndex, 4n);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
