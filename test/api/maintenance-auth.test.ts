/**
 * With auth on, etcd 3.4's maintenance calls that read or rewrite the whole store (snapshot,
 * defragment, hash, hashkv) need the root role and answer with the auth package's raw errors;
 * status and alarm need nothing (checked by hand against etcd 3.4.23: `auth: user name is empty`
 * without a token, `auth: permission denied` for a user without root, both code 2 / HTTP 500;
 * a refused snapshot stream in grpc-gateway's stream error shape).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, type Fixture } from './app-fixture.js';

let f: Fixture;
let rootToken = '';
let bobToken = '';

async function call(path: string, body: unknown, token?: string): Promise<{ status: number; json: any }> {
  const r = await f.app.inject({ method: 'POST', url: path, payload: JSON.stringify(body), headers: token ? { authorization: token } : {} });
  return { status: r.statusCode, json: r.json() };
}

before(async () => {
  f = await startFixture();
  for (const [name, password] of [['root', 'rootpw'], ['bob', 'bobpw']]) assert.equal((await call('/v3/auth/user/add', { name, password })).status, 200);
  assert.equal((await call('/v3/auth/user/grant', { user: 'root', role: 'root' })).status, 200);
  assert.equal((await call('/v3/auth/enable', {})).status, 200);
  rootToken = (await call('/v3/auth/authenticate', { name: 'root', password: 'rootpw' })).json.token;
  bobToken = (await call('/v3/auth/authenticate', { name: 'bob', password: 'bobpw' })).json.token;
});
after(async () => { await f.close(); });

describe('maintenance with auth on', () => {
  for (const path of ['/v3/maintenance/defragment', '/v3/maintenance/hash', '/v3/maintenance/hashkv']) {
    it(`${path} needs root`, async () => {
      const none = 'auth: user name is empty';
      const denied = 'auth: permission denied';
      assert.deepEqual(await call(path, {}), { status: 500, json: { error: none, message: none, code: 2 } });
      assert.deepEqual(await call(path, {}, bobToken), { status: 500, json: { error: denied, message: denied, code: 2 } });
      assert.equal((await call(path, {}, rootToken)).status, 200);
    });
  }

  it('a snapshot for a user without root is refused in the stream error shape', async () => {
    assert.deepEqual(await call('/v3/maintenance/snapshot', {}, bobToken), {
      status: 500, json: { error: { grpc_code: 2, http_code: 500, message: 'auth: permission denied', http_status: 'Internal Server Error' } },
    });
  });

  it('status and alarm need no user', async () => {
    assert.equal((await call('/v3/maintenance/status', {})).status, 200);
    assert.deepEqual(await call('/v3/maintenance/alarm', {}), { status: 200, json: {} });
  });
});
