import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, b64, unb64, type Fixture } from './app-fixture.js';

let f: Fixture;
before(async () => { f = await startFixture({ maxRequestBytes: 4096, maxTxnOps: 4 }); });
after(async () => { await f.close(); });

test('a fresh store answers revision 1 and put bumps it; header has etcd fields as strings', async () => {
  const r0 = await f.gw('/v3/kv/range', { key: b64('nothing') });
  assert.equal(r0.status, 200);
  assert.deepEqual(Object.keys(r0.json), ['header'], 'empty range omits kvs and count');
  assert.deepEqual(Object.keys(r0.json.header).sort(), ['cluster_id', 'member_id', 'raft_term', 'revision']);
  assert.equal(r0.json.header.revision, '1');
  assert.match(r0.json.header.cluster_id, /^[0-9]+$/);
  const p = await f.gw('/v3/kv/put', { key: b64('foo'), value: b64('bar') });
  assert.equal(p.status, 200);
  assert.equal(p.json.header.revision, '2');
  const g = await f.gw('/v3/kv/range', { key: b64('foo') });
  assert.deepEqual(g.json.kvs, [{ key: b64('foo'), create_revision: '2', mod_revision: '2', version: '1', value: b64('bar') }]);
  assert.equal(g.json.count, '1');
});

test('put with prev_kv returns the previous value; an empty value is omitted', async () => {
  await f.gw('/v3/kv/put', { key: b64('pk'), value: b64('one') });
  const r = await f.gw('/v3/kv/put', { key: b64('pk'), value: '', prev_kv: true });
  assert.equal(unb64(r.json.prev_kv.value), 'one');
  const g = await f.gw('/v3/kv/range', { key: b64('pk') });
  assert.equal(g.json.kvs[0].value, undefined);
  assert.equal(g.json.kvs[0].version, '2');
});

test('camelCase fields, int64 as number or string, enums by name or number', async () => {
  for (const k of ['p/a', 'p/b', 'p/c']) await f.gw('/v3/kv/put', { key: b64(k), value: b64(k) });
  const a = await f.gw('/v3/kv/range', { key: b64('p/'), rangeEnd: b64('p0'), sortOrder: 'DESCEND', limit: 2 });
  assert.deepEqual(a.json.kvs.map((kv: any) => unb64(kv.key)), ['p/c', 'p/b']);
  assert.equal(a.json.more, true);
  assert.equal(a.json.count, '3');
  const b = await f.gw('/v3/kv/range', { key: b64('p/'), range_end: b64('p0'), sort_order: 2, limit: '1', keys_only: true });
  assert.deepEqual(b.json.kvs, [{ key: b64('p/c'), create_revision: b.json.kvs[0].create_revision, mod_revision: b.json.kvs[0].mod_revision, version: '1' }]);
});

test('deleterange reports deleted and prev_kvs; nothing deleted omits deleted and keeps the revision', async () => {
  const before = await f.gw('/v3/kv/range', { key: b64('zz') });
  const none = await f.gw('/v3/kv/deleterange', { key: b64('zz') });
  assert.equal(none.json.deleted, undefined);
  assert.equal(none.json.header.revision, before.json.header.revision);
  const d = await f.gw('/v3/kv/deleterange', { key: b64('p/'), range_end: b64('p0'), prev_kv: true });
  assert.equal(d.json.deleted, '3');
  assert.equal(d.json.prev_kvs.length, 3);
});

test('txn: success and failure branches, inner headers carry only the revision, nested txn header is empty', async () => {
  await f.gw('/v3/kv/put', { key: b64('t'), value: b64('v1') });
  const ok = await f.gw('/v3/kv/txn', {
    compare: [{ key: b64('t'), target: 'VALUE', result: 'EQUAL', value: b64('v1') }],
    success: [{ request_put: { key: b64('t'), value: b64('v2') } }, { request_range: { key: b64('t') } }, { request_txn: {} }],
    failure: [],
  });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.succeeded, true);
  const rev = ok.json.header.revision;
  assert.deepEqual(ok.json.responses[0], { response_put: { header: { revision: rev } } });
  assert.equal(unb64(ok.json.responses[1].response_range.kvs[0].value), 'v2');
  assert.deepEqual(ok.json.responses[2], { response_txn: { header: {}, succeeded: true } });
  const no = await f.gw('/v3/kv/txn', {
    compare: [{ key: b64('t'), target: 'VERSION', result: 'GREATER', version: '5' }],
    success: [{ request_put: { key: b64('t'), value: b64('never') } }],
    failure: [{ request_range: { key: b64('t') } }],
  });
  assert.equal(no.json.succeeded, undefined, 'a failed txn omits succeeded');
  assert.equal(no.json.header.revision, rev, 'a read-only branch uses no revision');
});

test('txn limits: too many ops and duplicate keys are refused with etcd errors, nothing changes', async () => {
  const put = (k: string) => ({ request_put: { key: b64(k), value: b64('x') } });
  const many = await f.gw('/v3/kv/txn', { success: [put('a'), put('b'), put('c'), put('d'), put('e')] });
  assert.equal(many.status, 400);
  assert.deepEqual(many.json, { error: 'etcdserver: too many operations in txn request', message: 'etcdserver: too many operations in txn request', code: 3 });
  const dup = await f.gw('/v3/kv/txn', { success: [put('dup'), put('dup')] });
  assert.equal(dup.status, 400);
  assert.equal(dup.json.error, 'etcdserver: duplicate key given in txn request');
  const g = await f.gw('/v3/kv/range', { key: b64('dup') });
  assert.equal(g.json.kvs, undefined);
});

test('compaction: reads below fail with code 11, future revisions too, the server keeps serving', async () => {
  await f.gw('/v3/kv/put', { key: b64('c'), value: b64('1') });
  const p = await f.gw('/v3/kv/put', { key: b64('c'), value: b64('2') });
  const rev = BigInt(p.json.header.revision);
  const c = await f.gw('/v3/kv/compaction', { revision: String(rev), physical: true });
  assert.equal(c.status, 200);
  assert.ok(c.json.header);
  const old = await f.gw('/v3/kv/range', { key: b64('c'), revision: String(rev - 1n) });
  assert.equal(old.status, 400);
  assert.deepEqual(old.json, { error: 'etcdserver: mvcc: required revision has been compacted', message: 'etcdserver: mvcc: required revision has been compacted', code: 11 });
  const fut = await f.gw('/v3/kv/range', { key: b64('c'), revision: String(rev + 100n) });
  assert.equal(fut.json.error, 'etcdserver: mvcc: required revision is a future revision');
  const at = await f.gw('/v3/kv/range', { key: b64('c'), revision: String(rev) });
  assert.equal(unb64(at.json.kvs[0].value), '2');
  const again = await f.gw('/v3/kv/compaction', { revision: String(rev) });
  assert.equal(again.json.code, 11);
});

test('bad input gets etcd errors and changes nothing', async () => {
  const cases: Array<[unknown, number, string]> = [
    [{}, 400, 'etcdserver: key is not provided'],
    ['', 400, 'etcdserver: key is not provided'],
    [{ key: 'Zm9v!' }, 400, 'illegal base64 data at input byte 4'],
    [{ key: 123 }, 400, 'json: cannot unmarshal number into Go value of type []uint8'],
    [{ key: b64('k'), lease: 'abc' }, 400, "invalid character 'a' looking for beginning of value"],
    [{ key: b64('k'), lease: 1.5 }, 400, 'json: cannot unmarshal number 1.5 into Go value of type int64'],
    [{ key: b64('k'), prev_kv: 'yes' }, 400, 'json: cannot unmarshal string into Go value of type bool'],
    [{ key: b64('k'), lease: '12' }, 404, 'etcdserver: requested lease not found'],
    [{ key: b64('missing'), ignore_value: true }, 400, 'etcdserver: key not found'],
    ['{"key":', 400, 'unexpected EOF'],
  ];
  for (const [body, status, error] of cases) {
    const r = await f.gw('/v3/kv/put', body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(r.json.error, error, JSON.stringify(body));
    assert.equal(r.json.message, error);
  }
  const e = await f.gw('/v3/kv/range', { key: b64('k'), sort_order: 'FOO' });
  assert.equal(e.json.error, 'unknown value "FOO" for enum etcdserverpb.RangeRequest_SortOrder');
  const g = await f.gw('/v3/kv/range', { key: b64('k') });
  assert.equal(g.status, 200);
  assert.equal(g.json.kvs, undefined);
});

test('a body over the limit is refused as etcd refuses a large request', async () => {
  const r = await f.gw('/v3/kv/put', { key: b64('big'), value: b64(Buffer.alloc(10_000, 1)) });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'etcdserver: request is too large');
  const g = await f.gw('/v3/kv/range', { key: b64('big') });
  assert.equal(g.json.kvs, undefined);
});

test('unknown paths 404, wrong methods 405, /v3beta is an alias, CORS headers are set', async () => {
  const nf = await f.app.inject({ method: 'POST', url: '/v3/kv/nope' });
  assert.equal(nf.statusCode, 404);
  assert.equal(nf.body, 'Not Found\n');
  const na = await f.app.inject({ method: 'GET', url: '/v3/kv/range' });
  assert.equal(na.statusCode, 405);
  const beta = await f.app.inject({ method: 'POST', url: '/v3beta/kv/range', payload: JSON.stringify({ key: b64('foo') }) });
  assert.equal(beta.statusCode, 200);
  assert.equal(beta.headers['access-control-allow-origin'], '*');
});

test('health, version and metrics', async () => {
  const h = await f.app.inject({ method: 'GET', url: '/health' });
  assert.deepEqual(h.json(), { health: 'true' });
  const v = await f.app.inject({ method: 'GET', url: '/version' });
  assert.equal(v.json().etcdserver, '3.4.23');
  assert.equal(v.json().etcdcluster, '3.4.0');
  const m = await f.app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(m.statusCode, 200);
  assert.match(m.body, /etcd_server_proposals_applied_total \d+/);
  assert.match(m.body, /etcd_mvcc_db_total_size_in_bytes \d+/);
});
