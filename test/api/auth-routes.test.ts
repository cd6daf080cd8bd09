/**
 * The /v3/auth/* routes in process (Fastify inject): every endpoint's answer shape and errors,
 * the /v3beta alias, camelCase input, bodies the gateway refuses, the token in the
 * `Authorization` header on the gateway and on the REST face, and passwords kept only as
 * scrypt hashes in the auth table. Semantics are compared with etcd in test/auth/diff-etcd.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, b64, type Fixture } from './app-fixture.js';
import { AUTH_TABLE_NAME } from '../../src/server/auth-table-lmdb.js';

let f: Fixture;

async function call(path: string, body: unknown, token?: string): Promise<{ status: number; json: any }> {
  const r = await f.app.inject({
    method: 'POST', url: path, payload: typeof body === 'string' ? body : JSON.stringify(body),
    headers: token ? { authorization: token } : {},
  });
  return { status: r.statusCode, json: r.json() };
}

async function ok(path: string, body: unknown, token?: string): Promise<any> {
  const r = await call(path, body, token);
  assert.equal(r.status, 200, `${path} ${JSON.stringify(r.json)}`);
  assert.ok(r.json.header, 'every answer has a header');
  return r.json;
}

async function fails(path: string, body: unknown, token: string | undefined, status: number, code: number, message: string): Promise<void> {
  const r = await call(path, body, token);
  assert.deepEqual({ status: r.status, json: r.json }, { status, json: { error: message, message, code } }, path);
}

before(async () => { f = await startFixture(); });
after(async () => { await f.close(); });

describe('auth routes, auth off', () => {
  it('user add/get/list/changepw/delete', async () => {
    await ok('/v3/auth/user/add', { name: 'u1', password: 'pw1' });
    await fails('/v3/auth/user/add', { name: 'u1', password: 'pw1' }, undefined, 412, 9, 'etcdserver: user name already exists');
    await fails('/v3/auth/user/add', { password: 'x' }, undefined, 400, 3, 'etcdserver: user name is empty');
    assert.equal((await ok('/v3/auth/user/get', { name: 'u1' })).roles, undefined, 'no roles: field omitted');
    await fails('/v3/auth/user/get', { name: 'nope' }, undefined, 412, 9, 'etcdserver: user name not found');
    assert.deepEqual((await ok('/v3/auth/user/list', {})).users, ['u1']);
    await ok('/v3/auth/user/changepw', { name: 'u1', password: 'pw2' });
    await fails('/v3/auth/user/changepw', { name: 'nope', password: 'x' }, undefined, 412, 9, 'etcdserver: user name not found');
    await ok('/v3/auth/user/delete', { name: 'u1' });
    await fails('/v3/auth/user/delete', { name: 'u1' }, undefined, 412, 9, 'etcdserver: user name not found');
    assert.equal((await ok('/v3/auth/user/list', {})).users, undefined, 'empty list omitted');
  });

  it('role add/get/list/grant/revoke/delete, user grant/revoke, camelCase and enum numbers', async () => {
    await ok('/v3/auth/role/add', { name: 'r' });
    await fails('/v3/auth/role/add', { name: 'r' }, undefined, 412, 9, 'etcdserver: role name already exists');
    await fails('/v3/auth/role/add', {}, undefined, 400, 3, 'etcdserver: role name is empty');
    await ok('/v3/auth/role/grant', { name: 'r', perm: { permType: 'READWRITE', key: b64('k') } });
    await ok('/v3/auth/role/grant', { name: 'r', perm: { permType: 0, key: b64('a/'), rangeEnd: b64('a0') } });
    await ok('/v3/auth/role/grant', { name: 'r', perm: { perm_type: 'WRITE', key: b64('z'), range_end: 'AA==' } });
    await fails('/v3/auth/role/grant', { name: 'r' }, undefined, 400, 3, 'etcdserver: permission is not given');
    await fails('/v3/auth/role/grant', { name: 'nope', perm: { key: b64('k') } }, undefined, 412, 9, 'etcdserver: role name not found');
    await fails('/v3/auth/role/grant', { name: 'r', perm: { permType: 7, key: b64('k') } }, undefined, 400, 3, 'unknown value 7 for enum authpb.Permission_Type');
    const role = await ok('/v3/auth/role/get', { role: 'r' });
    assert.deepEqual(role.perm, [
      { key: b64('a/'), range_end: b64('a0') },
      { permType: 'READWRITE', key: b64('k') },
      { permType: 'WRITE', key: b64('z'), range_end: 'AA==' },
    ]);
    await fails('/v3/auth/role/get', { role: 'nope' }, undefined, 412, 9, 'etcdserver: role name not found');
    assert.deepEqual((await ok('/v3beta/auth/role/list', {})).roles, ['r'], '/v3beta alias');
    await ok('/v3/auth/role/revoke', { role: 'r', key: b64('a/'), rangeEnd: b64('a0') });
    await fails('/v3/auth/role/revoke', { role: 'r', key: b64('a/'), range_end: b64('a0') }, undefined, 412, 9, 'etcdserver: permission is not granted to the role');
    await ok('/v3/auth/user/add', { name: 'g', password: 'pw' });
    await ok('/v3/auth/user/grant', { user: 'g', role: 'r' });
    await fails('/v3/auth/user/grant', { user: 'g', role: 'nope' }, undefined, 412, 9, 'etcdserver: role name not found');
    assert.deepEqual((await ok('/v3/auth/user/get', { name: 'g' })).roles, ['r']);
    await ok('/v3/auth/user/revoke', { name: 'g', role: 'r' });
    await fails('/v3/auth/user/revoke', { name: 'g', role: 'r' }, undefined, 412, 9, 'etcdserver: role is not granted to the user');
    await ok('/v3/auth/role/delete', { role: 'r' });
    await fails('/v3/auth/role/delete', { role: 'r' }, undefined, 412, 9, 'etcdserver: role name not found');
    await ok('/v3/auth/user/delete', { name: 'g' });
  });

  it('bodies the gateway refuses: wrong JSON types and bad JSON are 400, nothing changes', async () => {
    const r = await call('/v3/auth/user/add', { name: 5, password: 'x' });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 3);
    assert.equal((await call('/v3/auth/role/add', '{"name":')).status, 400);
    assert.equal((await ok('/v3/auth/user/list', {})).users, undefined);
  });

  it('status, enable without root, authenticate while off', async () => {
    const s = await ok('/v3/auth/status', {});
    assert.equal(s.enabled, undefined);
    await fails('/v3/auth/enable', {}, undefined, 412, 9, 'etcdserver: root user does not exist');
    await fails('/v3/auth/authenticate', { name: 'root', password: 'x' }, undefined, 412, 9, 'etcdserver: authentication is not enabled');
    await fails('/v3/kv/range', { key: b64('k') }, 'bogus', 401, 16, 'etcdserver: invalid auth token');
  });
});

describe('auth routes, auth on', () => {
  let root = '';
  let reader = '';
  before(async () => {
    await ok('/v3/auth/user/add', { name: 'root', password: 'rootpw' });
    await fails('/v3/auth/enable', {}, undefined, 412, 9, 'etcdserver: root user does not have root role');
    await ok('/v3/auth/user/grant', { user: 'root', role: 'root' });
    await ok('/v3/auth/user/add', { name: 'reader', password: 'readerpw' });
    await ok('/v3/auth/role/add', { name: 'ro' });
    await ok('/v3/auth/role/grant', { name: 'ro', perm: { key: b64('pub/'), range_end: b64('pub0') } });
    await ok('/v3/auth/user/grant', { user: 'reader', role: 'ro' });
    await ok('/v3/auth/enable', {});
    root = (await ok('/v3/auth/authenticate', { name: 'root', password: 'rootpw' })).token;
    reader = (await ok('/v3/auth/authenticate', { name: 'reader', password: 'readerpw' })).token;
    await ok('/v3/kv/put', { key: b64('pub/a'), value: b64('1') }, root);
  });

  it('status says enabled with the auth revision; tokens are simple tokens', async () => {
    const s = await ok('/v3/auth/status', {});
    assert.equal(s.enabled, true);
    assert.match(s.authRevision, /^[1-9][0-9]*$/);
    assert.match(root, /^[A-Za-z]{16}\.\d+$/);
  });

  it('the gateway checks the token: missing, wrong, denied, allowed', async () => {
    await fails('/v3/kv/range', { key: b64('pub/a') }, undefined, 400, 3, 'etcdserver: user name is empty');
    await fails('/v3/kv/range', { key: b64('pub/a') }, `${reader}x`, 401, 16, 'etcdserver: invalid auth token');
    await fails('/v3/kv/put', { key: b64('pub/a'), value: b64('2') }, reader, 403, 7, 'etcdserver: permission denied');
    assert.equal((await ok('/v3/kv/range', { key: b64('pub/'), range_end: b64('pub0') }, reader)).count, '1');
    await fails('/v3/auth/user/list', {}, reader, 403, 7, 'etcdserver: permission denied');
    await fails('/v3/auth/disable', {}, reader, 403, 7, 'etcdserver: permission denied');
    await fails('/v3/auth/authenticate', { name: 'reader', password: 'nope' }, undefined, 400, 3, 'etcdserver: authentication failed, invalid user ID or password');
    // etcd 3.4's maintenance calls pass the auth package's texts through (500, code 2).
    await fails('/v3/maintenance/hash', {}, reader, 500, 2, 'auth: permission denied');
    await fails('/v3/maintenance/hash', {}, undefined, 500, 2, 'auth: user name is empty');
    assert.equal((await call('/v3/maintenance/hash', {}, root)).status, 200);
  });

  it('the REST face takes the same token', async () => {
    const get = await f.app.inject({ method: 'GET', url: '/kv/pub/a', headers: { authorization: reader } });
    assert.equal(get.statusCode, 200);
    assert.equal(get.body, '1');
    const denied = await f.app.inject({ method: 'PUT', url: '/kv/pub/a', payload: 'x', headers: { authorization: reader } });
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.json().error, 'etcdserver: permission denied');
    const none = await f.app.inject({ method: 'GET', url: '/kv/pub/a' });
    assert.equal(none.statusCode, 400);
    const bad = await f.app.inject({ method: 'GET', url: '/kv/pub/a', headers: { authorization: 'bogus' } });
    assert.equal(bad.statusCode, 401);
    const watch = await f.app.inject({ method: 'GET', url: '/watch/secret', headers: { authorization: reader } });
    assert.equal(watch.statusCode, 403);
    const health = await f.app.inject({ method: 'GET', url: '/health', headers: { authorization: 'bogus' } });
    assert.equal(health.statusCode, 200, 'health ignores tokens');
  });

  it('the auth table holds scrypt hashes, never a password', async () => {
    const rows = [...f.server.store.openTable(AUTH_TABLE_NAME).getRange({})].map(({ key, value }) => [String(key), String(value)]);
    const users = rows.filter(([k]) => k.startsWith('user/'));
    assert.equal(users.length, 2);
    for (const [, v] of users) {
      assert.match(v, /"passwordHash":"scrypt\$14\$8\$1\$/);
      assert.ok(!v.includes('rootpw') && !v.includes('readerpw'));
    }
  });

  it('disable by root; tokens lapse', async () => {
    await ok('/v3/auth/disable', {}, root);
    await fails('/v3/kv/range', { key: b64('pub/a') }, root, 401, 16, 'etcdserver: invalid auth token');
    assert.equal((await ok('/v3/kv/range', { key: b64('pub/a') })).count, '1');
  });
});
