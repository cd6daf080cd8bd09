/**
 * The lock service on the JSON gateway, against an in-process member: key and response shapes
 * as etcd's, mutual exclusion under many concurrent clients (a shared counter under the lock),
 * FIFO order by create revision, loss of the lock when the holder's lease ends, a waiter that
 * disconnects gives up its place, and etcd's error shapes (500, code 2).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startFixture, b64, unb64, type Fixture } from '../api/app-fixture.js';

let f: Fixture;
before(async () => { f = await startFixture(); });
after(async () => { await f.close(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function grant(ttl = 30): Promise<string> {
  const r = await f.gw('/v3/lease/grant', { TTL: ttl });
  assert.equal(r.status, 200);
  return r.json.ID;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const r = await f.gw('/v3/kv/range', { key: b64(prefix), range_end: b64(end), keys_only: true, sort_target: 'CREATE', sort_order: 'ASCEND' });
  return (r.json.kvs ?? []).map((kv: any) => unb64(kv.key));
}

test('lock answers {header, key} with key name/<lease hex>, the key attached to the lease with an empty value', async () => {
  const lease = await grant();
  const r = await f.gw('/v3/lock/lock', { name: b64('shape'), lease });
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.json).sort(), ['header', 'key']);
  assert.deepEqual(Object.keys(r.json.header).sort(), ['cluster_id', 'member_id', 'raft_term', 'revision']);
  assert.equal(unb64(r.json.key), `shape/${BigInt(lease).toString(16)}`);
  const g = await f.gw('/v3/kv/range', { key: r.json.key });
  assert.equal(g.json.kvs[0].lease, lease);
  assert.equal(g.json.kvs[0].value, undefined, 'the lock key has an empty value');
  assert.equal(g.json.kvs[0].create_revision, r.json.header.revision, 'an uncontended lock answers with its put revision');
  const again = await f.gw('/v3/lock/lock', { name: b64('shape'), lease });
  assert.equal(again.status, 200, 'the same lease locking again gets the lock it holds at once');
  assert.equal(again.json.key, r.json.key);
  const u = await f.gw('/v3/lock/unlock', { key: r.json.key });
  assert.equal(u.status, 200);
  assert.deepEqual(Object.keys(u.json), ['header']);
  assert.deepEqual(await keysUnder('shape/'), []);
});

test('lock without a lease uses a 60 s lease of the server\'s own', async () => {
  const r = await f.gw('/v3/lock/lock', { name: b64('nolease') });
  assert.equal(r.status, 200);
  const g = await f.gw('/v3/kv/range', { key: r.json.key });
  const lease = g.json.kvs[0].lease;
  assert.equal(unb64(r.json.key), `nolease/${BigInt(lease).toString(16)}`);
  const ttl = await f.gw('/v3/lease/timetolive', { ID: lease });
  assert.equal(ttl.json.grantedTTL, '60');
  await f.gw('/v3/lease/revoke', { ID: lease });
});

test('errors as etcd: unknown lease and empty unlock key are 500 code 2; bad base64 is 400 code 3; unlock of a gone key is fine', async () => {
  const unknown = await f.gw('/v3/lock/lock', { name: b64('x'), lease: '12345' });
  assert.equal(unknown.status, 500);
  assert.deepEqual(unknown.json, { error: 'etcdserver: requested lease not found', message: 'etcdserver: requested lease not found', code: 2 });
  const empty = await f.gw('/v3/lock/unlock', {});
  assert.equal(empty.status, 500);
  assert.deepEqual(empty.json, { error: 'etcdserver: key is not provided', message: 'etcdserver: key is not provided', code: 2 });
  const bad = await f.gw('/v3/lock/lock', { name: '!!' });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.json, { error: 'illegal base64 data at input byte 0', message: 'illegal base64 data at input byte 0', code: 3 });
  const gone = await f.gw('/v3/lock/unlock', { key: b64('never/there') });
  assert.equal(gone.status, 200);
  assert.deepEqual(await keysUnder('x/'), []);
});

test('mutual exclusion: 20 clients x 10 acquisitions, never two holders at once, every acquisition served', async () => {
  const clients = 20;
  const rounds = 10;
  let holders = 0;
  let maxHolders = 0;
  let served = 0;
  const leases = await Promise.all(Array.from({ length: clients }, () => grant()));
  await Promise.all(leases.map(async (lease) => {
    for (let i = 0; i < rounds; i++) {
      const r = await f.gw('/v3/lock/lock', { name: b64('mutex'), lease });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      holders++;
      maxHolders = Math.max(maxHolders, holders);
      const seen = served;
      await sleep(1);
      served = seen + 1; // lost updates would show if another holder ran meanwhile
      holders--;
      const u = await f.gw('/v3/lock/unlock', { key: r.json.key });
      assert.equal(u.status, 200);
    }
  }));
  assert.equal(maxHolders, 1);
  assert.equal(served, clients * rounds);
  assert.equal(f.server.locks.waiters, 0);
  assert.equal(f.server.watchHub.watcherCount, 0, 'no watcher left behind');
});

test('FIFO: waiters get the lock in the order of their keys\' create revisions', async () => {
  const holderLease = await grant();
  const first = await f.gw('/v3/lock/lock', { name: b64('fifo'), lease: holderLease });
  const order: number[] = [];
  const waiters: Promise<void>[] = [];
  const n = 8;
  for (let i = 0; i < n; i++) {
    const lease = await grant();
    waiters.push(f.gw('/v3/lock/lock', { name: b64('fifo'), lease }).then(async (r) => {
      order.push(i);
      await sleep(2);
      await f.gw('/v3/lock/unlock', { key: r.json.key });
    }));
    // Queue in a known order: wait until this waiter's key exists before starting the next.
    const key = `fifo/${BigInt(lease).toString(16)}`;
    while (!(await keysUnder('fifo/')).includes(key)) await sleep(2);
  }
  assert.deepEqual(order, [], 'nobody gets the lock while it is held');
  await f.gw('/v3/lock/unlock', { key: first.json.key });
  await Promise.all(waiters);
  assert.deepEqual(order, Array.from({ length: n }, (_, i) => i));
});

test('a holder whose lease is revoked loses the lock: the next waiter gets it', async () => {
  const a = await grant();
  const b = await grant();
  const held = await f.gw('/v3/lock/lock', { name: b64('expiry'), lease: a });
  assert.equal(held.status, 200);
  let got = false;
  const waiting = f.gw('/v3/lock/lock', { name: b64('expiry'), lease: b }).then((r) => { got = true; return r; });
  await sleep(50);
  assert.equal(got, false);
  await f.gw('/v3/lease/revoke', { ID: a });
  const r = await waiting;
  assert.equal(r.status, 200);
  assert.equal(unb64(r.json.key), `expiry/${BigInt(b).toString(16)}`);
  assert.deepEqual(await keysUnder('expiry/'), [`expiry/${BigInt(b).toString(16)}`]);
});

test('a waiter whose client disconnects gives up its place: its key is deleted, as etcd does', async () => {
  const url = await f.app.listen({ port: 0, host: '127.0.0.1' });
  const a = await grant();
  const b = await grant();
  const held = await f.gw('/v3/lock/lock', { name: b64('gone'), lease: a });
  const ac = new AbortController();
  const p = request(`${url}/v3/lock/lock`, { method: 'POST', body: JSON.stringify({ name: b64('gone'), lease: b }), signal: ac.signal });
  const bKey = `gone/${BigInt(b).toString(16)}`;
  while (!(await keysUnder('gone/')).includes(bKey)) await sleep(2);
  ac.abort();
  await assert.rejects(p);
  for (let i = 0; i < 200 && (await keysUnder('gone/')).includes(bKey); i++) await sleep(5);
  assert.deepEqual(await keysUnder('gone/'), [`gone/${BigInt(a).toString(16)}`]);
  await f.gw('/v3/lock/unlock', { key: held.json.key });
  for (let i = 0; i < 200 && f.server.locks.waiters > 0; i++) await sleep(5);
  assert.equal(f.server.locks.waiters, 0);
});

test('waiters are bounded: past maxWaiters a lock call is refused with TooManyRequests, and the place is freed after', async () => {
  const { LockService } = await import('../../src/server/concurrency/lock-service.js');
  const locks = new LockService(f.server, { maxWaiters: 1 });
  const [a, b] = [BigInt(await grant()), BigInt(await grant())];
  const held = await locks.lock(Buffer.from('bound'), a);
  const ac = new AbortController();
  const waiting = locks.lock(Buffer.from('bound'), b, ac.signal);
  await assert.rejects(locks.lock(Buffer.from('bound'), a), (e: Error) => e.message === 'etcdserver: too many requests');
  ac.abort();
  await assert.rejects(waiting, { name: 'WaitAborted' });
  assert.equal(locks.waiters, 0);
  await locks.unlock(held.key);
  const again = await locks.lock(Buffer.from('bound'), b);
  await locks.unlock(again.key);
});
