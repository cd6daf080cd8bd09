import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../src/errors/errors.js';
import { EXPIRED_RETRY_MS, Lessor, MAX_LEASE_TTL_SEC, minLeaseTtlSec } from '../../src/lease/lessor.js';
import { LeaseIdGenerator } from '../../src/lease/lease-id.js';
import {
  MemoryLeaseTable, decodeLeaseKey, decodeLeaseValue, encodeLeaseKey, encodeLeaseValue,
} from '../../src/lease/lease-record.js';
import { ExpiryQueue } from '../../src/lease/expiry-queue.js';

function clock(startMs = 1_000) {
  let now = startMs;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

function primaryLessor(opts: { checkpointIntervalMs?: number } = {}) {
  const c = clock();
  const lessor = new Lessor({ minTtlSec: 2n, nowMs: c.now, ...opts });
  lessor.promote(0);
  return { lessor, c };
}

const kind = (k: string) => (e: unknown) => e instanceof CairnError && e.kind === k;

describe('minimum lease TTL', () => {
  it('is 1.5 election timeouts in whole heartbeats, rounded up to seconds (etcd: 2 s by default)', () => {
    assert.equal(minLeaseTtlSec(1000, 100), 2n);
    assert.equal(minLeaseTtlSec(500, 100), 1n); // 700 ms -> 1 s
    assert.equal(minLeaseTtlSec(2000, 100), 3n);
    assert.equal(minLeaseTtlSec(5000, 250), 8n); // 7.5 s -> 8 s
  });
});

describe('lessor grant and revoke (apply side)', () => {
  it('raises a TTL below the minimum to the minimum and keeps larger ones', () => {
    const { lessor } = primaryLessor();
    assert.equal(lessor.applyGrant(1n, 1n).ttlSec, 2n);
    assert.equal(lessor.applyGrant(2n, 0n).ttlSec, 2n);
    assert.equal(lessor.applyGrant(3n, 30n).ttlSec, 30n);
  });

  it('refuses a second grant of the same ID and a TTL above etcd\'s maximum', () => {
    const { lessor } = primaryLessor();
    lessor.applyGrant(7n, 10n);
    assert.throws(() => lessor.applyGrant(7n, 10n), kind('LeaseExist'));
    assert.throws(() => Lessor.checkGrant(MAX_LEASE_TTL_SEC + 1n), kind('LeaseTTLTooLarge'));
    Lessor.checkGrant(MAX_LEASE_TTL_SEC);
  });

  it('keeps 64-bit and negative IDs exactly', () => {
    const { lessor } = primaryLessor();
    const big = 2n ** 63n - 1n;
    lessor.applyGrant(big, 10n);
    lessor.applyGrant(-5n, 10n);
    assert.ok(lessor.has(big) && lessor.has(-5n));
    assert.ok(!lessor.has(big - 1n));
  });

  it('revoke removes the lease once', () => {
    const { lessor } = primaryLessor();
    lessor.applyGrant(1n, 10n);
    assert.equal(lessor.applyRevoke(1n), true);
    assert.equal(lessor.applyRevoke(1n), false);
    assert.equal(lessor.timeToLive(1n), undefined);
  });
});

describe('lessor expiry (primary side)', () => {
  it('offers a lease for revoke only once its TTL has passed', () => {
    const { lessor, c } = primaryLessor();
    lessor.applyGrant(1n, 5n);
    c.advance(4_999);
    assert.deepEqual(lessor.takeExpired(10), []);
    c.advance(1);
    assert.deepEqual(lessor.takeExpired(10), [1n]);
    assert.deepEqual(lessor.takeExpired(10), [], 'not offered twice in a row');
    c.advance(EXPIRED_RETRY_MS);
    assert.deepEqual(lessor.takeExpired(10), [1n], 'offered again when its revoke did not land');
  });

  it('keep-alive pushes expiry a full TTL from now, several times in a row', () => {
    const { lessor, c } = primaryLessor();
    lessor.applyGrant(1n, 3n);
    for (let i = 0; i < 5; i++) {
      c.advance(2_000);
      assert.deepEqual(lessor.renew(1n), { ttlSec: 3n, clearCheckpoint: false });
      assert.deepEqual(lessor.takeExpired(10), []);
    }
    c.advance(3_000);
    assert.deepEqual(lessor.takeExpired(10), [1n]);
  });

  it('renewing an unknown or already expired lease fails with lease not found', () => {
    const { lessor, c } = primaryLessor();
    assert.throws(() => lessor.renew(9n), kind('LeaseNotFound'));
    lessor.applyGrant(1n, 2n);
    c.advance(2_000);
    assert.throws(() => lessor.renew(1n), kind('LeaseNotFound'));
  });

  it('hands out expired leases in bounded batches, soonest first', () => {
    const { lessor, c } = primaryLessor();
    for (let i = 1; i <= 2_500; i++) lessor.applyGrant(BigInt(i), BigInt(2 + (i % 3)));
    c.advance(10_000);
    const first = lessor.takeExpired(1_000);
    assert.equal(first.length, 1_000);
    assert.equal(lessor.takeExpired(1_000).length, 1_000);
    assert.equal(lessor.takeExpired(1_000).length, 500);
    assert.equal(lessor.takeExpired(1_000).length, 0);
  });

  it('timetolive rounds down and lists leases soonest expiry first', () => {
    const { lessor, c } = primaryLessor();
    lessor.applyGrant(10n, 30n);
    lessor.applyGrant(11n, 5n);
    c.advance(500);
    assert.deepEqual(lessor.timeToLive(10n), { grantedTtlSec: 30n, remainingSec: 29n });
    assert.deepEqual(lessor.timeToLive(11n), { grantedTtlSec: 5n, remainingSec: 4n });
    assert.deepEqual(lessor.list(), [11n, 10n]);
  });

  it('a follower (not primary) neither expires leases nor accepts keep-alives', () => {
    const c = clock();
    const lessor = new Lessor({ minTtlSec: 2n, nowMs: c.now });
    lessor.applyGrant(1n, 2n);
    c.advance(60_000);
    assert.deepEqual(lessor.takeExpired(10), []);
    assert.throws(() => lessor.renew(1n), kind('NotLeader'));
  });

  it('keeps the expiry queue bounded under many keep-alives', () => {
    const { lessor, c } = primaryLessor();
    for (let i = 1; i <= 100; i++) lessor.applyGrant(BigInt(i), 10n);
    for (let round = 0; round < 200; round++) {
      c.advance(10);
      for (let i = 1; i <= 100; i++) lessor.renew(BigInt(i));
    }
    const q = (lessor as unknown as { expiryQueue: ExpiryQueue }).expiryQueue;
    assert.ok(q.size <= 2 * 100 + 1_024, `queue holds ${q.size} entries`);
  });
});

describe('lessor restart, promotion and checkpoints', () => {
  it('a restored lease does not expire before promotion, then lives its TTL plus the election timeout', () => {
    const c = clock();
    const lessor = new Lessor({ minTtlSec: 2n, nowMs: c.now });
    lessor.restore([{ id: 1n, ttlSec: 10n, remainingTtlSec: 0n }]);
    c.advance(60_000);
    lessor.promote(1_000);
    c.advance(10_999);
    assert.deepEqual(lessor.takeExpired(10), []);
    c.advance(1);
    assert.deepEqual(lessor.takeExpired(10), [1n]);
  });

  it('a checkpointed remaining TTL is what a restored lease gets, never less', () => {
    const c = clock();
    const lessor = new Lessor({ minTtlSec: 2n, nowMs: c.now });
    lessor.restore([{ id: 1n, ttlSec: 600n, remainingTtlSec: 42n }]);
    lessor.promote(1_000);
    assert.deepEqual(lessor.timeToLive(1n), { grantedTtlSec: 600n, remainingSec: 43n });
  });

  it('checkpoints a long lease\'s remaining TTL (rounded up) every interval', () => {
    const { lessor, c } = primaryLessor({ checkpointIntervalMs: 10_000 });
    lessor.applyGrant(1n, 60n);
    lessor.applyGrant(2n, 5n); // ends before any checkpoint would help
    c.advance(9_999);
    assert.deepEqual(lessor.takeCheckpointsDue(10), []);
    c.advance(1);
    assert.deepEqual(lessor.takeCheckpointsDue(10), [{ id: 1n, remainingTtlSec: 50n }]);
    c.advance(500);
    assert.deepEqual(lessor.takeCheckpointsDue(10), []);
  });

  it('a keep-alive after a checkpoint asks for the checkpoint to be cleared', () => {
    const { lessor, c } = primaryLessor({ checkpointIntervalMs: 10_000 });
    lessor.applyGrant(1n, 60n);
    c.advance(10_000);
    const due = lessor.takeCheckpointsDue(10);
    assert.equal(due.length, 1);
    // Still in flight: a renewal now could be overtaken by the stale checkpoint.
    assert.equal(lessor.renew(1n).clearCheckpoint, true);
    lessor.applyCheckpoint(1n, due[0].remainingTtlSec);
    lessor.checkpointSettled(1n);
    assert.equal(lessor.renew(1n).clearCheckpoint, true);
    lessor.applyCheckpoint(1n, 0n);
    assert.equal(lessor.renew(1n).clearCheckpoint, false);
  });

  it('applying a checkpoint on the primary does not move its expiry', () => {
    const { lessor, c } = primaryLessor();
    lessor.applyGrant(1n, 60n);
    c.advance(1_000);
    lessor.applyCheckpoint(1n, 5n);
    assert.deepEqual(lessor.timeToLive(1n), { grantedTtlSec: 60n, remainingSec: 59n });
  });
});

describe('lease records and IDs', () => {
  it('round-trips 64-bit IDs and refuses a record of another format or length', () => {
    for (const id of [1n, -5n, 2n ** 63n - 1n, -(2n ** 63n)]) assert.equal(decodeLeaseKey(encodeLeaseKey(id)), id);
    const rec = { id: 3n, ttlSec: 9_000_000_000n, remainingTtlSec: 17n };
    assert.deepEqual(decodeLeaseValue(3n, encodeLeaseValue(rec)), rec);
    const bad = encodeLeaseValue(rec);
    bad[0] = 9;
    assert.throws(() => decodeLeaseValue(3n, bad), /format 9/);
    assert.throws(() => decodeLeaseValue(3n, bad.subarray(1)), /16 bytes/);
    const t = new MemoryLeaseTable();
    t.put(rec);
    assert.deepEqual(t.loadAll(), [rec]);
  });

  it('generates distinct positive 63-bit IDs above 2^53 with the member\'s bits on top', () => {
    const g = new LeaseIdGenerator(0x1234_5678_9abc_def0n, 1_700_000_000_000);
    const ids = new Set<bigint>();
    for (let i = 0; i < 10_000; i++) {
      const id = g.next();
      assert.ok(id > 0n && id < 2n ** 63n);
      ids.add(id);
    }
    assert.equal(ids.size, 10_000);
    const first = [...ids][0];
    assert.ok(first > 2n ** 53n, 'IDs must not fit a JavaScript number');
    assert.equal(first >> 48n, 0x5ef0n & 0x7fffn);
  });
});
