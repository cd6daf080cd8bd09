import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, type Fixture } from './app-fixture.js';

let f: Fixture;
before(async () => { f = await startFixture(); });
after(async () => { await f.close(); });

const req = (method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, payload?: string | Buffer, headers: Record<string, string> = {}) =>
  f.app.inject({ method, url, payload, headers });

test('PUT then GET returns the raw value with metadata headers', async () => {
  const p = await req('PUT', '/kv/config/app/port', '8080');
  assert.equal(p.statusCode, 200);
  const rev = p.json().revision;
  assert.match(rev, /^[0-9]+$/);
  const g = await req('GET', '/kv/config/app/port');
  assert.equal(g.statusCode, 200);
  assert.equal(g.body, '8080');
  assert.equal(g.headers['content-type'], 'application/octet-stream');
  assert.equal(g.headers.etag, `"${rev}"`);
  assert.equal(g.headers['x-cairn-mod-revision'], rev);
  assert.equal(g.headers['x-cairn-create-revision'], rev);
  assert.equal(g.headers['x-cairn-version'], '1');
  assert.equal(g.headers['x-cairn-revision'], rev);
});

test('a leading slash is part of the key; percent-encoded bytes decode to bytes', async () => {
  await req('PUT', '/kv//etc/hosts', 'h');
  assert.equal((await req('GET', '/kv//etc/hosts')).body, 'h');
  assert.equal((await req('GET', '/kv/etc/hosts')).statusCode, 404);
  await req('PUT', '/kv/bin%00ary%ff', 'b');
  const j = await req('GET', '/kv/bin%00ary%ff?format=json&encoding=base64');
  assert.equal(Buffer.from(j.json().kvs[0].key, 'base64').toString('hex'), Buffer.from('bin\0ary\xff', 'latin1').toString('hex'));
  const gw = await f.gw('/v3/kv/range', { key: Buffer.from('/etc/hosts').toString('base64') });
  assert.equal(Buffer.from(gw.json.kvs[0].value, 'base64').toString(), 'h', 'both doors see the same key');
});

test('a missing key is 404 with the revision', async () => {
  const g = await req('GET', '/kv/absent');
  assert.equal(g.statusCode, 404);
  assert.equal(g.json().error, 'key not found');
  assert.ok(g.headers['x-cairn-revision']);
});

test('prefix listing in JSON with limit, keys_only, sort and count_only', async () => {
  for (const k of ['svc/a', 'svc/b', 'svc/c']) await req('PUT', `/kv/${k}`, k.toUpperCase());
  const all = await req('GET', '/kv/svc/?prefix');
  assert.equal(all.statusCode, 200);
  const body = all.json();
  assert.equal(body.count, '3');
  assert.equal(body.more, false);
  assert.deepEqual(body.kvs.map((kv: any) => [kv.key, kv.value]), [['svc/a', 'SVC/A'], ['svc/b', 'SVC/B'], ['svc/c', 'SVC/C']]);
  const lim = (await req('GET', '/kv/svc/?prefix&limit=2&keys_only&sort=key&order=desc')).json();
  assert.deepEqual(lim.kvs.map((kv: any) => kv.key), ['svc/c', 'svc/b']);
  assert.equal(lim.kvs[0].value, undefined);
  assert.equal(lim.more, true);
  const cnt = (await req('GET', '/kv?prefix&count_only')).json();
  assert.ok(Number(cnt.count) >= 3);
  assert.deepEqual(cnt.kvs, []);
});

test('historical reads by ?revision', async () => {
  const r1 = (await req('PUT', '/kv/h', 'one')).json().revision;
  await req('PUT', '/kv/h', 'two');
  assert.equal((await req('GET', `/kv/h?revision=${r1}`)).body, 'one');
  assert.equal((await req('GET', '/kv/h')).body, 'two');
});

test('If-None-Match: * creates only when absent; If-Match compares the mod revision', async () => {
  const c1 = await req('PUT', '/kv/lock/x', 'me', { 'if-none-match': '*' });
  assert.equal(c1.statusCode, 200);
  const c2 = await req('PUT', '/kv/lock/x', 'you', { 'if-none-match': '*' });
  assert.equal(c2.statusCode, 412);
  assert.equal(c2.json().kv.value, 'me');
  const etag = c2.headers.etag as string;
  const stale = await req('PUT', '/kv/lock/x', 'v2', { 'if-match': '"1"' });
  assert.equal(stale.statusCode, 412);
  const fresh = await req('PUT', '/kv/lock/x', 'v2', { 'if-match': etag });
  assert.equal(fresh.statusCode, 200);
  assert.equal((await req('GET', '/kv/lock/x')).body, 'v2');
  const del = await req('DELETE', '/kv/lock/x', undefined, { 'if-match': etag });
  assert.equal(del.statusCode, 412, 'the etag changed with the last write');
});

test('DELETE one key or a prefix, with prev_kv', async () => {
  for (const k of ['d/1', 'd/2']) await req('PUT', `/kv/${k}`, 'x');
  const one = (await req('DELETE', '/kv/d/1')).json();
  assert.equal(one.deleted, '1');
  const none = (await req('DELETE', '/kv/d/1')).json();
  assert.equal(none.deleted, '0');
  const pre = (await req('DELETE', '/kv/d/?prefix&prev_kv')).json();
  assert.equal(pre.deleted, '1');
  assert.equal(pre.prev_kvs[0].key, 'd/2');
});

test('bad query parameters are a 400 with a reason; the server keeps serving', async () => {
  const r = await req('GET', '/kv/x?limit=abc');
  assert.equal(r.statusCode, 400);
  assert.match(r.json().error, /limit/);
  const s = await req('GET', '/kv/x?sort=nonsense');
  assert.equal(s.statusCode, 400);
  const empty = await req('GET', '/kv/');
  assert.equal(empty.statusCode, 400);
  assert.equal(empty.json().error, 'etcdserver: key is not provided');
  assert.equal((await req('GET', '/health')).statusCode, 200);
});

test('compaction over REST', async () => {
  const rev = (await req('PUT', '/kv/cmp', '1')).json().revision;
  await req('PUT', '/kv/cmp', '2');
  const c = await req('POST', `/compaction?revision=${rev}&physical`);
  assert.equal(c.statusCode, 200);
  const old = await req('GET', `/kv/cmp?revision=${BigInt(rev) - 1n}`);
  assert.equal(old.statusCode, 400);
  assert.equal(old.json().error, 'etcdserver: mvcc: required revision has been compacted');
});
