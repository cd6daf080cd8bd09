/**
 * The election service on the JSON gateway, against an in-process member: response shapes as
 * etcd's, one leader at a time under many concurrent candidates, campaign order by create
 * revision, proclaim and resign only by the current leader key, observers see every change
 * (value changes and each new leader, in order), a candidate that disconnects withdraws, and
 * etcd's errors (500, code 2).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startFixture, b64, unb64, type Fixture } from '../api/app-fixture.js';
import { GatewayStreamClient } from '../watch/stream-client.js';

let f: Fixture;
let url: string;
before(async () => {
  f = await startFixture();
  url = await f.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => { await f.close(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (id: string) => BigInt(id).toString(16);

async function grant(ttl = 30): Promise<string> {
  const r = await f.gw('/v3/lease/grant', { TTL: ttl });
  assert.equal(r.status, 200);
  return r.json.ID;
}

async function keyExists(key: string): Promise<boolean> {
  return (await f.gw('/v3/kv/range', { key: b64(key) })).json.kvs !== undefined;
}

const err = (message: string) => ({ error: message, message, code: 2 });

test('campaign, leader, proclaim, resign: shapes and revisions as etcd\'s', async () => {
  const lease = await grant();
  const c = await f.gw('/v3/election/campaign', { name: b64('shape'), lease, value: b64('v1') });
  assert.equal(c.status, 200);
  assert.deepEqual(Object.keys(c.json).sort(), ['header', 'leader']);
  const rev = c.json.header.revision;
  assert.deepEqual(c.json.leader, { name: b64('shape'), key: b64(`shape/${hex(lease)}`), rev, lease });
  const l = await f.gw('/v3/election/leader', { name: b64('shape') });
  assert.equal(l.status, 200);
  assert.deepEqual(l.json.kv, { key: b64(`shape/${hex(lease)}`), create_revision: rev, mod_revision: rev, version: '1', value: b64('v1'), lease });
  const p = await f.gw('/v3/election/proclaim', { leader: c.json.leader, value: b64('v2') });
  assert.equal(p.status, 200);
  assert.deepEqual(Object.keys(p.json), ['header']);
  assert.equal(BigInt(p.json.header.revision), BigInt(rev) + 1n);
  assert.equal((await f.gw('/v3/election/leader', { name: b64('shape') })).json.kv.value, b64('v2'));
  const r = await f.gw('/v3/election/resign', { leader: c.json.leader });
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.json), ['header']);
  assert.equal(BigInt(r.json.header.revision), BigInt(rev) + 2n);
  const none = await f.gw('/v3/election/leader', { name: b64('shape') });
  assert.equal(none.status, 500);
  assert.deepEqual(none.json, err('election: no leader'));
});

test('errors as etcd: deposed leader cannot proclaim; resign of a stale key does nothing; missing leader; unknown lease', async () => {
  const lease = await grant();
  const c = await f.gw('/v3/election/campaign', { name: b64('errs'), lease, value: b64('a') });
  const stale = { ...c.json.leader, rev: '1' };
  const p = await f.gw('/v3/election/proclaim', { leader: stale, value: b64('x') });
  assert.equal(p.status, 500);
  assert.deepEqual(p.json, err('election: not leader'));
  const r = await f.gw('/v3/election/resign', { leader: stale });
  assert.equal(r.status, 200, 'resign of a key that is not ours is not an error');
  assert.ok(await keyExists(`errs/${hex(lease)}`), 'and deletes nothing');
  for (const path of ['/v3/election/proclaim', '/v3/election/resign']) {
    const m = await f.gw(path, { value: b64('x') });
    assert.equal(m.status, 500);
    assert.deepEqual(m.json, err('"leader" field must be provided'));
  }
  const u = await f.gw('/v3/election/campaign', { name: b64('errs2'), lease: '999', value: b64('a') });
  assert.equal(u.status, 500);
  assert.deepEqual(u.json, err('etcdserver: requested lease not found'));
  const bad = await f.gw('/v3/election/leader', { name: 5 });
  assert.equal(bad.status, 400);
  await f.gw('/v3/election/resign', { leader: c.json.leader });
});

test('campaign without a lease gets a 60 s lease of the server\'s own; campaigning again with a new value proclaims it', async () => {
  const c = await f.gw('/v3/election/campaign', { name: b64('own'), value: b64('a') });
  assert.equal(c.status, 200);
  const lease = c.json.leader.lease;
  assert.equal((await f.gw('/v3/lease/timetolive', { ID: lease })).json.grantedTTL, '60');
  const again = await f.gw('/v3/election/campaign', { name: b64('own'), lease, value: b64('b') });
  assert.equal(again.json.leader.rev, c.json.leader.rev, 'same key, same place');
  assert.equal((await f.gw('/v3/election/leader', { name: b64('own') })).json.kv.value, b64('b'));
  await f.gw('/v3/lease/revoke', { ID: lease });
});

test('one leader at a time: 12 candidates x 3 terms each, leader() names the elected one', async () => {
  let leaders = 0;
  let maxLeaders = 0;
  let terms = 0;
  const leases = await Promise.all(Array.from({ length: 12 }, () => grant()));
  await Promise.all(leases.map(async (lease) => {
    for (let t = 0; t < 3; t++) {
      const c = await f.gw('/v3/election/campaign', { name: b64('one'), lease, value: b64(`${lease}:${t}`) });
      assert.equal(c.status, 200, JSON.stringify(c.json));
      leaders++;
      maxLeaders = Math.max(maxLeaders, leaders);
      const l = await f.gw('/v3/election/leader', { name: b64('one') });
      assert.equal(l.json.kv.key, c.json.leader.key, 'leader() names the elected candidate');
      const p = await f.gw('/v3/election/proclaim', { leader: c.json.leader, value: b64('proclaimed') });
      assert.equal(p.status, 200);
      terms++;
      leaders--;
      assert.equal((await f.gw('/v3/election/resign', { leader: c.json.leader })).status, 200);
    }
  }));
  assert.equal(maxLeaders, 1);
  assert.equal(terms, 36);
  assert.equal(f.server.watchHub.watcherCount, 0, 'no watcher left behind');
});

test('observers see every change: the leader, its proclaimed values, each next leader, in order', async () => {
  const obs = new GatewayStreamClient(url, '/v3/election/observe', [{ name: b64('obs') }]);
  obs.endRequest();
  await sleep(100);
  assert.equal(obs.status, 0, 'no leader: nothing sent yet, not even headers (as etcd)');
  const [la, lb, lc] = [await grant(), await grant(), await grant()];
  const a = await f.gw('/v3/election/campaign', { name: b64('obs'), lease: la, value: b64('a1') });
  const bP = f.gw('/v3/election/campaign', { name: b64('obs'), lease: lb, value: b64('b1') });
  while (!(await keyExists(`obs/${hex(lb)}`))) await sleep(2);
  const cP = f.gw('/v3/election/campaign', { name: b64('obs'), lease: lc, value: b64('c1') });
  while (!(await keyExists(`obs/${hex(lc)}`))) await sleep(2);
  await f.gw('/v3/election/proclaim', { leader: a.json.leader, value: b64('a2') });
  await f.gw('/v3/election/resign', { leader: a.json.leader });
  const b = await bP;
  await f.gw('/v3/election/proclaim', { leader: b.json.leader, value: b64('b2') });
  await f.gw('/v3/lease/revoke', { ID: lb }); // a leader whose lease ends is replaced too
  const c = await cP;
  assert.equal(c.status, 200);
  const msgs = await obs.waitFor(5);
  await sleep(50);
  assert.equal(obs.status, 200);
  const seen = obs.messages.map((m) => `${unb64(m.result.kv.key).split('/')[1]}=${unb64(m.result.kv.value)}`);
  assert.deepEqual(seen, [`${hex(la)}=a1`, `${hex(la)}=a2`, `${hex(lb)}=b1`, `${hex(lb)}=b2`, `${hex(lc)}=c1`]);
  for (const m of msgs) {
    assert.deepEqual(Object.keys(m), ['result']);
    assert.deepEqual(Object.keys(m.result).sort(), ['header', 'kv']);
  }
  assert.equal(msgs[1].result.header.revision, msgs[1].result.kv.mod_revision);
  obs.close();
  await f.gw('/v3/election/resign', { leader: c.json.leader });
  for (let i = 0; i < 100 && f.server.watchHub.watcherCount > 0; i++) await sleep(5);
  assert.equal(f.server.watchHub.watcherCount, 0, 'a closed observe stream leaves no watcher');
});

test('a candidate whose client disconnects withdraws: its key is deleted and it never leads', async () => {
  const [la, lb] = [await grant(), await grant()];
  const a = await f.gw('/v3/election/campaign', { name: b64('quit'), lease: la, value: b64('a') });
  const ac = new AbortController();
  const p = request(`${url}/v3/election/campaign`, {
    method: 'POST', body: JSON.stringify({ name: b64('quit'), lease: lb, value: b64('b') }), signal: ac.signal,
  });
  while (!(await keyExists(`quit/${hex(lb)}`))) await sleep(2);
  ac.abort();
  await assert.rejects(p);
  for (let i = 0; i < 200 && (await keyExists(`quit/${hex(lb)}`)); i++) await sleep(5);
  assert.equal(await keyExists(`quit/${hex(lb)}`), false);
  await f.gw('/v3/election/resign', { leader: a.json.leader });
  const none = await f.gw('/v3/election/leader', { name: b64('quit') });
  assert.deepEqual(none.json, err('election: no leader'));
});
