/**
 * txn (etcdctl's stdin format, -i prompts, every format, parse errors) and user/role/auth as
 * real processes, compared with etcdctl on etcd.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerHandle } from '../support/harness.js';
import { routeMissing, startTarget } from './cli-harness.js';
import { cairnctlInProcess, fails, ok, revisions, same } from './compare.js';

let server: ServerHandle;
const ctl = (args: string[], input?: string) => cairnctlInProcess(server.clientUrl, args, { input });

before(async () => {
  server = await startTarget();
  await ctl(['put', 't1', 'v1']);
});
after(async () => { await server?.dispose(); });

const txnInput = 'mod("t1") > "0"\nvalue("t1") = "v1"\n\nput t2 "x y"\nget t1\ndel t9\n\nget t2\n\n';

describe('txn', () => {
  test('success branch: SUCCESS, then each response after a blank line', async () => {
    ok(await same(server, ['txn'], { input: txnInput, process: true }), 'SUCCESS\n\nOK\n\nt1\nv1\n\n0\n');
  });

  test('failure branch, and json and fields output', async () => {
    ok(await same(server, ['txn'], { input: 'value("t1") = "nope"\n\nput t2 a\n\nget t1 --prefix --keys-only\n\n' }), 'FAILURE\n\nt1\n\n');
    const j = await same(server, ['txn', '-w', 'json'], { input: txnInput, normalise: [revisions] });
    assert.match(j.stdout, /^\{"header":\{[^}]+\},"succeeded":true,"responses":\[\{"Response":\{"ResponsePut":\{"header":\{"revision":\d+\}\}\}\},\{"Response":\{"ResponseRange":/);
    await same(server, ['txn', '-w', 'fields'], { input: txnInput, normalise: [revisions] });
  });

  test('-i prints the section prompts', async () => {
    ok(await same(server, ['txn', '-i'], { input: 'version("t1") != "0"\n\n\n\n' }),
      'compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\nSUCCESS\n');
  });

  test('compare targets c/create, m/mod, ver/version, val/value with =, !=, <, >', async () => {
    ok(await same(server, ['txn'], { input: 'c("t1") > "0"\nver("t1") < "1000"\nval("t1") != "x"\ncreate("nope") = "0"\n\n\n\n' }), 'SUCCESS\n');
  });

  test('parse errors exit 3 with etcdctl\'s messages; input ending early is EOF', async () => {
    fails(await same(server, ['txn'], { input: 'bogus\n' }), 3, 'malformed comparison: bogus');
    fails(await same(server, ['txn'], { input: 'mod("t1" "t9") > "0"\n' }), 3, 'malformed comparison: mod("t1" "t9") > "0"; got mod("t1")  ""');
    fails(await same(server, ['txn'], { input: 'mod("t1") > "0"\n' }), 3, 'EOF');
    // etcdctl also prints cobra's usage of `put` on stderr here; cairnctl prints only the error.
    const withoutUsage = (x: string): string => x.replace(/^Usage:[\s\S]*?\n\n(?=Error)/, '');
    fails(await same(server, ['txn'], { input: 'mod("t1") > "0"\n\nput t1 --bogus x\n\n\n', normalise: [withoutUsage] }), 3, 'invalid txn request: put t1 --bogus x');
    fails(await same(server, ['txn', 'extra']), 128, 'txn command does not accept argument');
  });

  test('a server error is the error: duplicate key in one branch', async () => {
    fails(await same(server, ['txn'], { input: '\nput d 1\nput d 2\n\n\n' }), 1, 'etcdserver: duplicate key given in txn request');
  });
});

describe('user, role, auth', () => {
  test('users and roles: add, grant, get, list, revoke, delete, in etcdctl\'s words', async (t) => {
    const missing = await routeMissing(server, '/v3/auth/role/list');
    if (missing) { t.skip(missing); return; }
    ok(await same(server, ['user', 'add', 'alice:pw'], { process: true, setup: () => ctl(['user', 'delete', 'alice']) }), 'User alice created\n');
    ok(await same(server, ['role', 'add', 'r1'], { setup: () => ctl(['role', 'delete', 'r1']) }), 'Role r1 created\n');
    ok(await same(server, ['role', 'grant-permission', 'r1', 'readwrite', 'foo']), 'Role r1 updated\n');
    ok(await same(server, ['role', 'grant-permission', 'r1', 'read', 'p/', '--prefix']), 'Role r1 updated\n');
    ok(await same(server, ['role', 'grant-permission', 'r1', 'write', 'a', 'z']), 'Role r1 updated\n');
    ok(await same(server, ['role', 'get', 'r1']), 'Role r1\nKV Read:\n\tfoo\n\t[p/, p0) (prefix p/)\nKV Write:\n\t[a, z)\n\tfoo\n');
    for (const w of ['json', 'fields']) await same(server, ['role', 'get', 'r1', '-w', w]);
    ok(await same(server, ['user', 'grant-role', 'alice', 'r1']), 'Role r1 is granted to user alice\n');
    ok(await same(server, ['user', 'get', 'alice']), 'User: alice\nRoles: r1\n');
    await same(server, ['user', 'get', 'alice', '--detail']);
    ok(await same(server, ['user', 'list']), 'alice\n');
    ok(await same(server, ['role', 'list']), 'r1\n');
    ok(await same(server, ['role', 'revoke-permission', 'r1', 'p/', '--prefix'], { setup: () => ctl(['role', 'grant-permission', 'r1', 'read', 'p/', '--prefix']) }),
      'Permission of range [p/, p0) is revoked from role r1\n');
    ok(await same(server, ['user', 'revoke-role', 'alice', 'r1'], { setup: () => ctl(['user', 'grant-role', 'alice', 'r1']) }), 'Role r1 is revoked from user alice\n');
    ok(await same(server, ['user', 'delete', 'alice'], { setup: () => ctl(['user', 'add', 'alice:pw']) }), 'User alice deleted\n');
    ok(await same(server, ['role', 'delete', 'r1'], { setup: () => ctl(['role', 'add', 'r1']) }), 'Role r1 deleted\n');
  });

  test('auth enable creates the root role if needed; --user authenticates; auth disable', async (t) => {
    const missing = await routeMissing(server, '/v3/auth/enable');
    if (missing) { t.skip(missing); return; }
    await ctl(['user', 'add', 'root:rootpw']);
    ok(await ctl(['auth', 'enable']), 'Authentication Enabled\n');
    try {
      fails(await same(server, ['get', 'foo']), 1, 'etcdserver: user name is empty');
      ok(await same(server, ['--user', 'root:rootpw', 'put', 'authed', 'yes'], { process: true }), 'OK\n');
      ok(await ctl(['--user', 'root', '--password', 'rootpw', 'get', 'authed', '--print-value-only']), 'yes\n');
      fails(await same(server, ['--user', 'root:wrong', 'get', 'foo']), 2, 'etcdserver: authentication failed, invalid user ID or password');
    } finally {
      ok(await ctl(['--user', 'root:rootpw', 'auth', 'disable']), 'Authentication Disabled\n');
      await ctl(['user', 'delete', 'root']);
      await ctl(['role', 'delete', 'root']);
    }
  });

  test('argument errors', async () => {
    fails(await same(server, ['user', 'add']), 128, 'user add command requires user name as its argument');
    fails(await same(server, ['role', 'grant-permission', 'r1', 'bogus', 'k']), 128, 'invalid permission type: bogus');
    fails(await same(server, ['user', 'grant-role', 'a']), 128, 'user grant command requires user name and role name as its argument');
  });
});
